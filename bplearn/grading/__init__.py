"""Instructor autograding around nbgrader (not needed by learners).

* ``python -m bplearn.grading generate``: solutions/ -> exercises/ (``generate``).
* ``python -m bplearn.grading autograde SUBMISSIONS --assignment NAME --out results.csv``:
  grade a class with nbgrader, one student per process (``autograde``).

The learner's self-check helpers live in ``bplearn.feedback``.
"""
