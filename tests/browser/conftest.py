"""The notebook here is opened in a real browser by tests/test_browser.py.

It is committed without outputs on purpose, so nbval must not collect it.
"""
collect_ignore_glob = ["*.ipynb"]
