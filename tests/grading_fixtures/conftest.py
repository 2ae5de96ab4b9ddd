"""The toy exercise here is graded by tests/test_judge*.py, tests/test_sandbox*.py and
tests/test_attacks*.py; it is a fixture, not a lesson, so nbval must not collect it."""
collect_ignore_glob = ["*.ipynb", "*.judge.py"]
