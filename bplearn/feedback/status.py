"""The words every check uses for where an answer stands, defined once.

A your-turn task (``yourturn``), an exercise check cell (``exercise``) and the grading
judge all print and compare these, so they must never drift apart.
"""
CORRECT = "correct"        # every quantity matches
WRONG = "wrong"            # ran, returned something, and at least one quantity differs
NOT_DONE = "not done"      # still the stub: raises NotImplementedError or returns the placeholder
ERROR = "error"            # the learner's code raised
MISSING = "missing"        # the function or variable the check looks for does not exist
NO_RESULT = "no result"    # the judge got nothing back (a crash or a time-out in the sandbox)
OK = "ok"                  # a probe ran and returned a value, not yet compared
