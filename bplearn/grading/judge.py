"""The trusted judge: chooses inputs, reads the sandbox's plain-data answers, scores each part.

It never imports or executes a submission. The pieces, in the order a grading run uses them:

    build_program(exercise, notebook)   the code cells to run in the sandbox (locked cells
                                        restored from the solution's copy; tampering noted)
    draw_cases(exercise, seed, parts)   fresh inputs per part; references and mistakes computed here
    write_workdir(dir, program, cases)  program.json + inputs.npz (judge-only keys left out)
    read_outputs(dir)                   out/outputs.json + out/outputs.npz, allow_pickle=False
    judge_part(part, cases, answers)    one PartResult: points, status, feedback

Self-grading uses the same judge_part with cases loaded from the shipped visible data.
"""
from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..feedback.compare import diagnose
from .spec import FORMAT_VERSION, Exercise
from ..errors import NotANotebook

JUDGE_VERSION = f"bplearn {__version__}, judge format {FORMAT_VERSION}"
MAX_NOTEBOOK_BYTES = 20 << 20
MAX_OUTPUT_BYTES = 64 << 20
CORRECT, WRONG, NOT_DONE, MISSING, ERROR, NO_RESULT = "correct", "wrong", "not done", "missing", "error", "no result"


@dataclass
class Case:
    """One set of inputs for a part, with what the judge expects for them.

    inputs: every key, judge-only ones (starting with "_") included. expected: the reference
    answer (None for property parts). mistakes: [(name, hint, value)] of the spec's Mistakes.
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


# --- the program the sandbox runs ------------------------------------------------------------------

def read_notebook(path: Path) -> dict:
    """Parse a submission as notebook JSON (never executing anything); raise NotANotebook."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        raise NotANotebook(f"{path.name} is not a regular file")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise NotANotebook(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MB")
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotANotebook(f"{path.name} is not valid notebook JSON ({exc.__class__.__name__})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        raise NotANotebook(f"{path.name} is not a version 4 Jupyter notebook (no list of cells)")
    return nb


def _source(cell) -> str:
    src = cell.get("source", "") if isinstance(cell, dict) else ""
    return "".join(src) if isinstance(src, list) and all(isinstance(s, str) for s in src) else (
        src if isinstance(src, str) else "")


def _grade_id(cell):
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
    return gid if isinstance(gid, str) else None


def _strip_hidden(source: str) -> str:
    return re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", "", source, flags=re.S).rstrip()


def _released(source: str) -> str:
    return re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "", source, flags=re.S)


def build_program(solution_nb: dict, submission_nb: dict) -> tuple[list, list]:
    """(code cells to run, in order; grade_ids of locked cells that were edited or deleted).

    Walks the solution notebook: locked code cells are taken from it (so an edited given cell
    is restored), solution cells from the submission (matched by grade_id), graded cells are
    never run (the judge grades, not the notebook). Cells the learner added run after the
    cell they followed. Markdown cells are compared for tampering but not run.
    """
    theirs = [c for c in submission_nb["cells"] if isinstance(c, dict)]
    by_id = {_grade_id(c): c for c in theirs if _grade_id(c)}
    known = {_grade_id(c) for c in solution_nb["cells"]}
    added_after, last = {}, None
    for c in theirs:
        gid = _grade_id(c)
        if gid in known:
            last = gid
        elif c.get("cell_type") == "code":
            added_after.setdefault(last, []).append(_source(c))
    cells, tampered = list(added_after.get(None, [])), []
    for c in solution_nb["cells"]:
        gid, meta = _grade_id(c), c["metadata"].get("nbgrader", {})
        mine = by_id.get(gid)
        if meta.get("solution"):
            cells.append(_source(mine) if mine is not None else "")
        else:
            original = _strip_hidden(_source(c)) if meta.get("grade") else _source(c)
            if mine is None or (_strip_hidden(_source(mine)) != original.rstrip() and meta.get("locked", True)):
                tampered.append(gid)
            if c["cell_type"] == "code" and not meta.get("grade"):
                cells.append(_source(c))
        cells.extend(added_after.get(gid, []))
    return cells, tampered


# --- inputs, references, mistakes -----------------------------------------------------------------

def draw_cases(exercise: Exercise, seed: int, parts) -> dict:
    """{part id: [Case, ...]}: fresh inputs from (seed, part index), expected values, mistakes."""
    cases = {}
    for index, part in enumerate(exercise.parts):
        if part not in parts:
            continue
        rng = np.random.default_rng([seed, index])
        cases[part.id] = [_make_case(exercise, part, part.inputs(rng)) for _ in range(part.cases)]
    return cases


def _make_case(exercise, part, inputs: dict) -> Case:
    public = {k: v for k, v in inputs.items() if not k.startswith("_")}
    if part.check is not None:
        return Case(inputs)
    reference = exercise.reference_function(part.reference)
    full = reference(**_copies(public))
    expected = _select(full, part.output)
    mistakes = []
    for m in part.mistakes:
        try:
            mistakes.append((m.name, m.hint, _select(m.compute(**_copies(public)), part.output)))
        except Exception:  # a mistake that cannot run on these inputs simply never matches
            continue
    return Case(inputs, expected, mistakes, None if part.output is None else len(full))


def _select(value, output):
    return value if output is None else value[output]


def _copies(inputs: dict) -> dict:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in inputs.items()}


def write_workdir(workdir: Path, cells: list, parts, cases: dict, cell_timeout: float) -> None:
    """program.json and inputs.npz: all the sandbox gets. Judge-only keys stay out."""
    workdir.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for part_id, part_cases in cases.items():
        for i, case in enumerate(part_cases):
            for name, v in case.inputs.items():
                if not name.startswith("_"):
                    arrays[f"{part_id}/{i}/{name}"] = np.asarray(v)
    np.savez(workdir / "inputs.npz", **arrays)
    probes = [{"id": p.id, "probe": p.probe.to_json(), "cases": len(cases[p.id])} for p in parts]
    program = {"cells": cells, "probes": probes, "cell_timeout": cell_timeout}
    (workdir / "program.json").write_text(json.dumps(program), encoding="utf-8")


# --- reading the sandbox's answers ------------------------------------------------------------------

def read_outputs(workdir: Path) -> dict:
    """{"parts": {id: [answer, ...]}, "cell_errors": [...]} or {} if there is nothing readable.

    Each answer is ("ok", decoded value) or (status, detail). Arrays come from the .npz with
    allow_pickle=False; anything malformed counts as no answer.
    """
    out = Path(workdir) / "out"
    manifest, arrays = out / "outputs.json", out / "outputs.npz"
    try:
        if manifest.stat().st_size > MAX_OUTPUT_BYTES or arrays.stat().st_size > MAX_OUTPUT_BYTES:
            return {}
        data = json.loads(manifest.read_text(encoding="utf-8"))
        with np.load(arrays, allow_pickle=False) as npz:
            loaded = {k: npz[k] for k in npz.files}
        parts = {pid: [_answer(a, loaded) for a in answers] for pid, answers in data["parts"].items()}
        return {"parts": parts, "cell_errors": data.get("cell_errors", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile):
        return {}


def _answer(answer: dict, arrays: dict):
    status = answer.get("status")
    if status == "ok":
        return "ok", decode(answer.get("value"), arrays)
    return str(status), answer.get("detail") if isinstance(answer.get("detail"), dict) else {}


def decode(desc, arrays: dict, depth: int = 0):
    """Rebuild a returned value from its description: arrays, numbers, None, tuples, lists."""
    kind = desc.get("kind") if isinstance(desc, dict) else None
    if kind == "none":
        return None
    if kind == "array":
        array = arrays[desc["key"]]
        kinds = {"float": float, "int": int, "bool": bool}
        if desc.get("pytype") in kinds and array.ndim == 0:
            return kinds[desc["pytype"]](array.item())
        return array if desc.get("pytype") == "ndarray" or array.ndim else array[()]
    if kind == "sequence" and depth < 4:
        items = [decode(d, arrays, depth + 1) for d in desc.get("items", [])]
        return list(items) if desc.get("type") == "list" else tuple(items)
    if kind == "too large":
        return _Opaque("array too large to judge", "")
    return _Opaque(str(desc.get("type", "object"))[:60] if isinstance(desc, dict) else "object",
                   str(desc.get("repr", ""))[:80] if isinstance(desc, dict) else "")


class _Opaque:
    """Stands in for a returned object that is not plain data; diagnose names its type."""

    def __init__(self, type_name: str, text: str):
        self.type_name, self.text = type_name, text

    def __repr__(self):
        return self.text or f"<{self.type_name}>"


# --- judging one part ----------------------------------------------------------------------------------

def judge_part(part_meta: dict, cases: list, answers: list | None) -> PartResult:
    """Score one part from its cases and the sandbox's answers; never raises for bad answers.

    part_meta: the Part's judging fields as a dict (see part_meta()); cases: [Case];
    answers: [(status, value or detail)] in case order, or None if the sandbox gave none.
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
    name, quantity = m["probe"]["name"], m["quantity"]
    if status == MISSING:
        what = "variable" if m["probe"]["kind"] == "value" else "function"
        return MISSING, (f"{quantity}: no {what} called `{name}` was found. Run the cell that defines it "
                         "and keep the name the exercise gives.")
    if status == NOT_DONE:
        return NOT_DONE, f"{quantity}: not done yet: `{name}` still raises NotImplementedError. Replace it with your code."
    if status == ERROR:
        where = "; ".join(got.get("where", [])) if isinstance(got, dict) else ""
        return ERROR, (f"{quantity}: your code raised {got.get('type', 'an error')}: {got.get('message', '')}"
                       + (f" (at {where})" if where else ""))
    if status != "ok":
        return NO_RESULT, f"{quantity}: no answer came back ({status})."
    if m["probe"]["kind"] == "value" and got is None:
        return NOT_DONE, f"{quantity}: not done yet: `{name}` is still None. Put your answer in it."
    got = _pick_output(m, got, case.n_outputs)
    if isinstance(got, tuple) and got and got[0] == "__problem__":
        return WRONG, got[1]
    message = _property_problem(m, case, got) if m["check"] else _value_problem(m, case, got)
    return (WRONG, message) if message else None


def _pick_output(m, got, n_outputs):
    output, name = m["output"], m["probe"]["name"]
    if output is None:
        return got
    if got is None:
        return "__problem__", (f"{m['quantity']}: `{name}` returned None. Did it forget its `return` line? "
                               f"It should return {n_outputs} values.")
    if not isinstance(got, (tuple, list)) or len(got) != n_outputs:
        length = f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
        return "__problem__", (f"{m['quantity']}: `{name}` should return {n_outputs} values in the "
                               f"documented order, but returned a {type(got).__name__}{length}.")
    return got[output]


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
    check = m["check"]
    if check["kind"] == "accuracy":
        labels = np.asarray(case.inputs[check["labels"]])
        shape_problem = diagnose(m["quantity"], got, labels.astype(float), 0.0, 1e12, None, "", "")
        if shape_problem:
            return shape_problem
        acc = float(np.mean(np.asarray(got) == labels))
        if acc >= check["minimum"]:
            return None
        return (f"{m['quantity']}: accuracy {acc:.1%} on {len(labels)} held-out examples the grader drew, "
                f"below the {check['minimum']:.0%} needed.")
    return check["fn"](got, case.inputs)


def part_meta(part) -> dict:
    """The fields judge_part needs, as plain data (so the visible ones can ship as JSON)."""
    check = None
    if part.check is not None:
        check = {"kind": part.check.kind, "minimum": part.check.minimum, "labels": part.check.labels,
                 "fn": part.check.fn}
    return {"id": part.id, "quantity": part.quantity, "points": float(part.points), "probe": part.probe.to_json(),
            "output": part.output, "batch_size": part.batch_size, "like": part.like,
            "hint": part.hint, "rtol": part.rtol, "atol": part.atol, "hidden": part.hidden, "check": check}

