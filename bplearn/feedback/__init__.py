"""The learner's self-checks: specific, kind feedback that never stops a notebook.

    compare    check_gradient / check_close / check_scalar and diagnose(): which quantity,
               expected vs received shape or value, and the usual mistake named
    yourturn   Task and Mistake: a your-turn cell checked on fresh inputs, with help in
               steps (nudge, hint, answer) and reset() back to the stub
    predict    reveal(): predict, then see the truth and why
    lessonNN   the tasks of lesson NN (import them in the lesson: `from bplearn.feedback import lesson04`)

The exercises' check cells (ex01..ex12) are learner feedback too:

    exercise   check() / summary() in an exercise notebook: `from bplearn.feedback.exercise import check, summary`
    parts      judge_part(): the verdict on one exercise part, shared with the instructor's judge
    shipped    the visible parts as data (visible/*.json): values encoded exactly, an exercise or part found
    probe      run_probe(): call the learner's function on one case, in the kernel or in the grading sandbox

Nothing here imports bplearn.grading (the instructor's package imports these modules instead).
"""
from .compare import check_close, check_gradient, check_scalar, diagnose
from .predict import reveal
from .yourturn import Mistake, Task, Verdict, is_stub
from ..errors import GradingFeedback

__all__ = ["check_gradient", "check_close", "check_scalar", "diagnose", "GradingFeedback",
           "Task", "Mistake", "Verdict", "is_stub", "reveal"]
