"""The check cells of the exercise notebooks: feedback in the learner's own kernel, never a score.

    from bplearn.feedback.exercise import check, summary
    check("ex03-huber-grad")   # prints ✔ or what is wrong with huber_grad and why; never raises
    summary()                  # last cell: the visible parts checked so far, and what is left

``check`` runs the learner's function here, on the visible cases shipped with bplearn
(``bplearn.feedback.shipped``), and judges the answers with the same ``judge_part`` the
instructor's judge uses. Scores come from that judge (``bplearn submit`` for a learner
alone, ``bplearn grade`` for a class), which runs the learner's code in a separate,
sandboxed process and also grades hidden parts.
"""
from __future__ import annotations

import sys

import numpy as np

from .parts import CORRECT, ERROR, NOT_DONE, PartResult, judge_part
from .probe import describe_error, run_probe
from .shipped import decode_case, find_part, full_exercise_name, load_visible

_RESULTS: dict = {}   # part id -> PartResult of the latest check in this kernel


def check(part_id: str, namespace: dict | None = None) -> None:
    """Check one visible part against the learner's code in this kernel; print the verdict.

    part_id: e.g. "ex03-huber-grad". namespace: where the learner's functions live (default:
    the calling notebook's globals). Never raises: a broken answer is feedback, not an error.
    """
    namespace = sys._getframe(1).f_globals if namespace is None else namespace
    try:
        _, part = find_part(part_id)
    except LookupError as exc:
        print(f"(cannot check {part_id}: {exc})")
        return
    result = check_part(part, namespace)
    _RESULTS[part_id] = result
    verdict = "" if result.status == CORRECT else f"✘ ({result.status}) "
    print(f"{verdict}{result.feedback}  [{result.points:g}/{result.max_points:g}]")


def check_part(part: dict, namespace: dict) -> PartResult:
    """Run the part's probe here on each shipped case and judge the answers.

    part: one entry of the shipped data's "parts" ({"meta": ..., "cases": [...]}).
    Inputs are copied first, so a function that changes its arguments cannot spoil the next case.
    """
    meta, cases = part["meta"], [decode_case(c) for c in part["cases"]]
    answers = []
    for case in cases:
        public = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.inputs.items()
                  if not k.startswith("_")}
        try:
            answers.append(run_probe(meta["probe"], namespace, public))
        except Exception as exc:  # e.g. a probe of the spec failing on an odd answer
            answers.append((ERROR, describe_error(exc)))
    return judge_part(meta, cases, answers)


def summary(exercise: str | None = None) -> None:
    """Print the visible parts checked in this kernel, their points, and the hidden points left.

    exercise: the exercise's prefix, e.g. "ex03" (default: that of the first part checked).
    """
    if not _RESULTS:
        print("No part checked yet: run the check cells above (Run All runs them all).")
        return
    data = _shipped_or_none(exercise or next(iter(_RESULTS)).split("-")[0])
    ids = [p["meta"]["id"] for p in data["parts"]] if data else list(_RESULTS)
    for part_id in ids:
        print(_summary_line(part_id, _RESULTS.get(part_id)))
    total = sum(_RESULTS[i].points for i in ids if i in _RESULTS)
    most = sum(p["meta"]["points"] for p in data["parts"]) if data else sum(r.max_points for r in _RESULTS.values())
    print(f"Visible parts: {total:g} of {most:g} points.", end="")
    if data and data["hidden_points"]:
        print(f" {data['hidden_points']:g} more points are hidden parts that only your instructor's judge grades.")
    else:
        print()
    print("For a score from the judge (your code in a separate process): bplearn submit THIS_NOTEBOOK.ipynb")


def _shipped_or_none(prefix: str) -> dict | None:
    """The shipped data of exercise ``prefix`` ("ex03"), or None if this install has none."""
    try:
        return load_visible(full_exercise_name(prefix))
    except (FileNotFoundError, LookupError):
        return None


def _summary_line(part_id: str, result: PartResult | None) -> str:
    if result is None:
        return f"  · {part_id:<24} not checked yet"
    mark = "✔" if result.status == CORRECT else "·" if result.status == NOT_DONE else "✘"
    return f"  {mark} {part_id:<24} {result.points:g}/{result.max_points:g}  {result.status}"
