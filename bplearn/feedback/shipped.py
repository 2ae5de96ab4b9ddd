"""The visible parts of the exercises, shipped as data: how they are stored and found.

``python -m bplearn.grading generate`` writes one file per exercise,
``bplearn/feedback/visible/<exercise>.json``: the visible parts' judging fields, their
inputs (drawn from the spec's fixed ``visible_seed``), the expected answers and the values
of the typical mistakes, all as plain JSON. No reference code and nothing hidden is in it.
The check cells (``bplearn.feedback.exercise``) and self-grading (``bplearn submit``) read it.

Values are stored exactly: arrays keep dtype and shape, floats round-trip through JSON.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .parts import Case

VISIBLE_DIR = Path(__file__).resolve().parent / "visible"


def encode(value):
    """Plain JSON for numbers, arrays, tuples, lists and dicts (decode() gives the value back)."""
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        return {"__array__": array.tolist(), "dtype": str(array.dtype), "shape": list(array.shape)}
    if isinstance(value, (tuple, list)):
        return {"__seq__": [encode(v) for v in value], "type": type(value).__name__}
    if isinstance(value, dict):
        return {"__dict__": {k: encode(v) for k, v in value.items()}}
    return value


def decode(data):
    """The value encode() stored: arrays with their dtype and shape, tuples as tuples."""
    if isinstance(data, dict) and "__array__" in data:
        return np.array(data["__array__"], dtype=data["dtype"]).reshape(data["shape"])
    if isinstance(data, dict) and "__seq__" in data:
        items = [decode(v) for v in data["__seq__"]]
        return items if data["type"] == "list" else tuple(items)
    if isinstance(data, dict) and "__dict__" in data:
        return {k: decode(v) for k, v in data["__dict__"].items()}
    return data


def encode_case(case: Case) -> dict:
    return {"inputs": encode(case.inputs), "expected": encode(case.expected), "n_outputs": case.n_outputs,
            "mistakes": [[name, hint, encode(v)] for name, hint, v in case.mistakes]}


def decode_case(data: dict) -> Case:
    return Case(decode(data["inputs"]), decode(data["expected"]),
                [(n, h, decode(v)) for n, h, v in data["mistakes"]], data["n_outputs"])


def visible_dirs() -> list[Path]:
    """Folders in BPLEARN_VISIBLE_PATH (os.pathsep-separated), then the shipped folder."""
    extra = [Path(p) for p in os.environ.get("BPLEARN_VISIBLE_PATH", "").split(os.pathsep) if p]
    return extra + [VISIBLE_DIR]


def load_visible(exercise_name: str) -> dict:
    """The shipped data of one exercise, e.g. "ex03_huber_loss"; FileNotFoundError if there is none."""
    for folder in visible_dirs():
        path = folder / f"{exercise_name}.json"
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"no visible checks for {exercise_name} in {', '.join(map(str, visible_dirs()))}; "
                            "the instructor writes them with `python -m bplearn.grading generate`")


def find_part(part_id: str) -> tuple[dict, dict]:
    """(exercise data, part data) for a part id such as "ex03-huber-grad"; LookupError if none."""
    for folder in visible_dirs():
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            for part in data["parts"]:
                if part["meta"]["id"] == part_id:
                    return data, part
    raise LookupError(f"no visible part {part_id!r} is shipped with this bplearn")


def full_exercise_name(prefix: str) -> str:
    """The full name of the exercise whose files start with ``prefix`` ("ex03" -> "ex03_huber_loss")."""
    for folder in visible_dirs():
        for path in sorted(folder.glob(f"{prefix}_*.json")):
            return path.stem
    raise LookupError(f"no visible checks for an exercise named {prefix}_… are shipped with this bplearn")
