"""The learner's self-checks: specific, kind feedback that never stops a notebook.

    compare    check_gradient / check_close / check_scalar and diagnose(): which quantity,
               expected vs received shape or value, and the usual mistake named
    yourturn   Task and Mistake: a your-turn cell checked on fresh inputs, with help in
               steps (nudge, hint, answer) and reset() back to the stub
    predict    reveal(): predict, then see the truth and why
    lessonNN   the tasks of lesson NN (import them in the lesson: `from bplearn.feedback import lesson04`)
"""
from .compare import check_close, check_gradient, check_scalar, diagnose
from .predict import reveal
from .yourturn import Mistake, Task, Verdict, is_stub
from ..errors import GradingFeedback

__all__ = ["check_gradient", "check_close", "check_scalar", "diagnose", "GradingFeedback",
           "Task", "Mistake", "Verdict", "is_stub", "reveal"]
