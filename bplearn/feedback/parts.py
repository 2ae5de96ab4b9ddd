"""The verdict on one exercise part: the learner's answers compared with the expected ones.

Used in the learner's kernel by the check cells (``bplearn.feedback.exercise``, on the
shipped visible cases) and by the instructor's judge (``bplearn.grading.judge``, on cases
it draws itself, with answers read back from the sandbox). Both call ``judge_part`` with:

    part_meta   the part's judging fields as plain data (``bplearn.grading.judge.part_meta``):
                id, quantity, points, probe, output, batch_size, like, hint, rtol, atol,
                hidden, check
    cases       [Case]: inputs, expected answer, values of the typical mistakes
    answers     [(status, value or detail)] from ``bplearn.feedback.probe.run_probe``

A wrong value is explained by ``diagnose`` (shape, NaN, sign, batch factor, ...); a value
equal to one of the spec's typical mistakes gets that mistake's name and hint.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .compare import diagnose
from .status import CORRECT, ERROR, MISSING, NO_RESULT, NOT_DONE, OK, WRONG

__all__ = ["Case", "PartResult", "judge_part", "CORRECT", "WRONG", "NOT_DONE", "MISSING", "ERROR", "NO_RESULT"]


@dataclass
class Case:
    """One set of inputs for a part, with what the judge expects for them.

    inputs: every key, judge-only ones (starting with "_") included. expected: the reference
    answer (None for property parts). mistakes: [(name, hint, value)] of the spec's Mistakes.
    n_outputs: how many values the probed function returns (None: a single value).
    """

    inputs: dict
    expected: object = None
    mistakes: list = field(default_factory=list)
    n_outputs: int | None = None


@dataclass
class PartResult:
    id: str
    quantity: str
    points: float
    max_points: float
    status: str
    feedback: str
    hidden: bool = False


def judge_part(part_meta: dict, cases: list, answers: list | None) -> PartResult:
    """Score one part from its cases and the answers; never raises for bad answers.

    part_meta: the Part's judging fields as a dict; cases: [Case];
    answers: [(status, value or detail)] in case order, or None if none came back.
    """
    m = part_meta
    if not answers:
        return _result(m, NO_RESULT, f"{m['quantity']}: no answer came back from your code "
                       "(it stopped before this part was reached).")
    for case, (status, got) in zip(cases, answers):
        problem = _problem(m, case, status, got)
        if problem:
            return _result(m, *problem)
    if len(answers) < len(cases):
        return _result(m, NO_RESULT, f"{m['quantity']}: your code stopped before every case was tried.")
    return _result(m, CORRECT, f"✔ {m['quantity']} is correct.")


def _result(m, status, feedback) -> PartResult:
    points = m["points"] if status == CORRECT else 0.0
    return PartResult(m["id"], m["quantity"], float(points), float(m["points"]), status, feedback, m["hidden"])


def _problem(m, case: Case, status: str, got) -> tuple | None:
    """(status, feedback) for one case's answer, or None if it is right."""
    if status != OK:
        return _status_problem(m, status, got)
    if m["probe"]["kind"] == "value" and got is None:
        return NOT_DONE, f"{m['quantity']}: not done yet: `{m['probe']['name']}` is still None. Put your answer in it."
    if m["output"] is not None:
        shape_problem = _outputs_problem(m, got, case.n_outputs)
        if shape_problem:
            return WRONG, shape_problem
        got = got[m["output"]]
    message = _property_problem(m, case, got) if m["check"] else _value_problem(m, case, got)
    return (WRONG, message) if message else None


def _status_problem(m, status: str, detail) -> tuple:
    """(status, feedback) when the probe gave no value: name missing, stub, error, nothing."""
    name, quantity = m["probe"]["name"], m["quantity"]
    if status == MISSING:
        what = "variable" if m["probe"]["kind"] == "value" else "function"
        return MISSING, (f"{quantity}: no {what} called `{name}` was found. Run the cell that defines it "
                         "and keep the name the exercise gives.")
    if status == NOT_DONE:
        return NOT_DONE, f"{quantity}: not done yet: `{name}` still raises NotImplementedError. Replace it with your code."
    if status == ERROR:
        where = "; ".join(detail.get("where", [])) if isinstance(detail, dict) else ""
        return ERROR, (f"{quantity}: your code raised {detail.get('type', 'an error')}: {detail.get('message', '')}"
                       + (f" (at {where})" if where else ""))
    return NO_RESULT, f"{quantity}: no answer came back ({status})."


def _outputs_problem(m, got, n_outputs: int) -> str | None:
    """What is wrong with a function's tuple of return values as a whole, or None."""
    name = m["probe"]["name"]
    if got is None:
        return (f"{m['quantity']}: `{name}` returned None. Did it forget its `return` line? "
                f"It should return {n_outputs} values.")
    if not isinstance(got, (tuple, list)) or len(got) != n_outputs:
        length = f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
        return (f"{m['quantity']}: `{name}` should return {n_outputs} values in the "
                f"documented order, but returned a {type(got).__name__}{length}.")
    return None


def _value_problem(m, case: Case, got) -> str | None:
    batch = _batch(m, case.inputs)
    message = diagnose(m["quantity"], got, case.expected, m["rtol"], m["atol"], batch, m["like"], "",
                       gradient=bool(m["like"]) or np.ndim(case.expected) > 0)
    if message is None:
        return None
    for name, hint, wrong in case.mistakes:
        if np.shape(wrong) == np.shape(got) and _allclose(got, wrong, m):
            return f"{message}\n    Likely mistake: {name}. {hint}"
    return message + (f" Hint: {m['hint']}" if m["hint"] else "")


def _allclose(a, b, m) -> bool:
    try:
        return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=m["rtol"], atol=m["atol"]))
    except (TypeError, ValueError):
        return False


def _batch(m, inputs: dict):
    key = m["batch_size"]
    return int(np.shape(inputs[key])[0]) if key and key in inputs and np.ndim(inputs[key]) else None


def _property_problem(m, case: Case, got) -> str | None:
    """Parts judged by a property: "accuracy" here; "custom" runs the spec's own function,
    which only the instructor's judge has (custom parts are always hidden, never shipped)."""
    check = m["check"]
    if check["kind"] == "accuracy":
        return _accuracy_problem(m, case, got)
    return check["fn"](got, case.inputs)


def _accuracy_problem(m, case: Case, got) -> str | None:
    check = m["check"]
    labels = np.asarray(case.inputs[check["labels"]])
    shape_problem = diagnose(m["quantity"], got, labels.astype(float), 0.0, 1e12, None, "", "")
    if shape_problem:
        return shape_problem
    acc = float(np.mean(np.asarray(got) == labels))
    if acc >= check["minimum"]:
        return None
    return (f"{m['quantity']}: accuracy {acc:.1%} on {len(labels)} held-out examples the grader drew, "
            f"below the {check['minimum']:.0%} needed.")
