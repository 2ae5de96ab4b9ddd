"""The visible parts, shipped: check cells in the learner's notebook and self-grading use them.

``python -m bplearn.grading generate`` writes, for every exercise with a judge spec,
``bplearn/grading/visible/<exercise>.json``: the visible parts' judging fields, their inputs
(drawn from the spec's fixed ``visible_seed``), the expected answers and the values of the
typical mistakes, all as plain data. No reference code and nothing hidden is in it.

In an exercise notebook (a learner's kernel: feedback only, never a score)::

    from bplearn.grading.check import check, summary
    check("ex03-dW")      # prints ✔ or what is wrong with dW and why; never raises
    summary()             # last cell: the visible parts checked so far, and what is left

Scores come from the judge (``bplearn submit`` for a learner alone, ``bplearn grade`` for a
class), which runs the learner's code in a separate, sandboxed process.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from .judge import Case, JUDGE_VERSION, NOT_DONE, judge_part, part_meta, draw_cases
from .runner import run_probe

VISIBLE_DIR = Path(__file__).resolve().parent / "visible"
_RESULTS: dict = {}   # part id -> PartResult of the latest check in this kernel


# --- writing and reading the shipped data ------------------------------------------------------

def encode(value):
    """Plain JSON for numbers, arrays (exact: floats round-trip through repr) and tuples."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        array = np.asarray(value)
        return {"__array__": array.tolist(), "dtype": str(array.dtype), "shape": list(array.shape)}
    if isinstance(value, (tuple, list)):
        return {"__seq__": [encode(v) for v in value], "type": type(value).__name__}
    if isinstance(value, dict):
        return {"__dict__": {k: encode(v) for k, v in value.items()}}
    return value


def decode(data):
    if isinstance(data, dict) and "__array__" in data:
        return np.array(data["__array__"], dtype=data["dtype"]).reshape(data["shape"])
    if isinstance(data, dict) and "__seq__" in data:
        items = [decode(v) for v in data["__seq__"]]
        return items if data["type"] == "list" else tuple(items)
    if isinstance(data, dict) and "__dict__" in data:
        return {k: decode(v) for k, v in data["__dict__"].items()}
    return data


def visible_data(exercise) -> dict:
    """The shipped file's content for one exercise (visible parts only)."""
    visible = [p for p in exercise.parts if not p.hidden]
    cases = draw_cases(exercise, exercise.visible_seed, visible)
    parts = []
    for p in visible:
        meta = part_meta(p)
        meta["check"] = None if meta["check"] is None else {k: v for k, v in meta["check"].items() if k != "fn"}
        parts.append({"meta": meta, "cases": [_encode_case(c) for c in cases[p.id]]})
    hidden = [p for p in exercise.parts if p.hidden]
    return {"exercise": exercise.notebook, "lesson": exercise.lesson, "judge_version": JUDGE_VERSION,
            "seed": exercise.visible_seed, "parts": parts,
            "hidden_parts": [p.id for p in hidden], "hidden_points": float(sum(p.points for p in hidden))}


def _encode_case(case: Case) -> dict:
    return {"inputs": encode(case.inputs), "expected": encode(case.expected), "n_outputs": case.n_outputs,
            "mistakes": [[name, hint, encode(v)] for name, hint, v in case.mistakes]}


def decode_case(data: dict) -> Case:
    return Case(decode(data["inputs"]), decode(data["expected"]),
                [(n, h, decode(v)) for n, h, v in data["mistakes"]], data["n_outputs"])


def write_visible(exercise, out_dir: Path = VISIBLE_DIR) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{exercise.notebook}.json"
    path.write_text(json.dumps(visible_data(exercise), indent=None, sort_keys=True) + "\n", encoding="utf-8")
    return path


def visible_dirs() -> list[Path]:
    """The shipped folder, then any folders in BPLEARN_VISIBLE_PATH (os.pathsep-separated)."""
    extra = [Path(p) for p in os.environ.get("BPLEARN_VISIBLE_PATH", "").split(os.pathsep) if p]
    return extra + [VISIBLE_DIR]


def load_visible(exercise_name: str) -> dict:
    for folder in visible_dirs():
        path = folder / f"{exercise_name}.json"
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"no visible checks for {exercise_name} in {', '.join(map(str, visible_dirs()))}; "
                            "the instructor writes them with `python -m bplearn.grading generate`")


def find_part(part_id: str) -> tuple[dict, dict]:
    """(exercise data, part data) for a part id such as "ex03-dW"."""
    for folder in visible_dirs():
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            for part in data["parts"]:
                if part["meta"]["id"] == part_id:
                    return data, part
    raise LookupError(f"no visible part {part_id!r} is shipped with this bplearn")


# --- in the learner's notebook -------------------------------------------------------------------

def check(part_id: str, namespace: dict | None = None) -> None:
    """Check one visible part against the learner's code in this kernel; print the verdict.

    namespace: where the learner's functions live (default: the calling notebook's globals).
    Never raises: a broken answer is feedback, not an error.
    """
    namespace = sys._getframe(1).f_globals if namespace is None else namespace
    try:
        _, part = find_part(part_id)
    except LookupError as exc:
        print(f"(cannot check {part_id}: {exc})")
        return
    result = judge_in_process(part, namespace)
    _RESULTS[part_id] = result
    verdict = "" if result.status == "correct" else f"✘ ({result.status}) "
    print(f"{verdict}{result.feedback}  [{result.points:g}/{result.max_points:g}]")


def judge_in_process(part: dict, namespace: dict):
    """Run the probe here (feedback only) and judge the answers with the judge's own code."""
    meta, cases = part["meta"], [decode_case(c) for c in part["cases"]]
    answers = []
    for case in cases:
        public = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.inputs.items()
                  if not k.startswith("_")}
        try:
            answers.append(run_probe(meta["probe"], namespace, public))
        except Exception as exc:  # e.g. a probe of the spec failing on an odd answer
            answers.append(("error", {"type": type(exc).__name__, "message": str(exc)[:200], "where": []}))
    return judge_part(meta, cases, answers)


def summary(exercise: str | None = None) -> None:
    """Print the visible parts checked in this kernel, their points, and the hidden points left."""
    if not _RESULTS:
        print("No part checked yet: run the check cells above (Run All runs them all).")
        return
    name = exercise or next(iter(_RESULTS)).split("-")[0]
    try:
        data = load_visible(_exercise_file(name))
    except (FileNotFoundError, LookupError):
        data = None
    ids = [p["meta"]["id"] for p in data["parts"]] if data else list(_RESULTS)
    total = sum(_RESULTS[i].points for i in ids if i in _RESULTS)
    most = sum(p["meta"]["points"] for p in data["parts"]) if data else sum(r.max_points for r in _RESULTS.values())
    for i in ids:
        r = _RESULTS.get(i)
        print(f"  {'✔' if r and r.status == 'correct' else '✘' if r and r.status != NOT_DONE else '·'} {i:<24} "
              + (f"{r.points:g}/{r.max_points:g}  {r.status}" if r else "not checked yet"))
    print(f"Visible parts: {total:g} of {most:g} points.", end="")
    if data and data["hidden_points"]:
        print(f" {data['hidden_points']:g} more points are hidden parts that only your instructor's judge grades.")
    else:
        print()
    print("For a score from the judge (your code in a separate process): bplearn submit THIS_NOTEBOOK.ipynb")


def _exercise_file(prefix: str) -> str:
    for folder in visible_dirs():
        for path in sorted(folder.glob(f"{prefix}_*.json")):
            return path.stem
    raise LookupError(prefix)
