"""Self-check feedback for notebooks and the autograding tools around nbgrader.

* ``check_gradient`` / ``check_close`` / ``check_scalar`` (see ``feedback``): compare an
  answer with a reference and explain the usual mistakes.
* ``python -m bplearn.grading generate``: solutions/ -> exercises/ (``generate``).
* ``python -m bplearn.grading autograde SUBMISSIONS --assignment NAME --out results.csv``:
  grade a class with nbgrader, one student per process (``autograde``).
"""
from .feedback import GradingFeedback, check_close, check_gradient, check_scalar

__all__ = ["GradingFeedback", "check_gradient", "check_close", "check_scalar"]
