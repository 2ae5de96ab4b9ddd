"""The trusted judge: chooses inputs, reads the sandbox's plain-data answers, scores each part.

It never imports or executes a submission. The pieces, in the order a grading run uses them:

    build_program(exercise, notebook)   the code cells to run in the sandbox (locked cells
                                        restored from the solution's copy; tampering noted)
    draw_cases(exercise, seed, parts)   fresh inputs per part; references and mistakes computed here
    write_workdir(dir, program, cases)  program.json + inputs.npz (judge-only keys left out)
    read_outputs(dir)                   out/outputs.json + out/outputs.npz, allow_pickle=False
    part_meta(part)                     a part's judging fields as plain data

Each part is then scored by ``bplearn.feedback.parts.judge_part`` (points, status, feedback),
the same code the learner's check cells run on the shipped visible cases.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import NotANotebook
from ..feedback.parts import Case
from .spec import FORMAT_VERSION, Exercise

JUDGE_VERSION = f"bplearn {__version__}, judge format {FORMAT_VERSION}"
MAX_NOTEBOOK_BYTES = 20 << 20
MAX_OUTPUT_BYTES = 64 << 20


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


# --- the part's judging fields ------------------------------------------------------------------------

def part_meta(part) -> dict:
    """The fields judge_part needs, as plain data (so the visible ones can ship as JSON)."""
    check = None
    if part.check is not None:
        check = {"kind": part.check.kind, "minimum": part.check.minimum, "labels": part.check.labels,
                 "fn": part.check.fn}
    return {"id": part.id, "quantity": part.quantity, "points": float(part.points), "probe": part.probe.to_json(),
            "output": part.output, "batch_size": part.batch_size, "like": part.like,
            "hint": part.hint, "rtol": part.rtol, "atol": part.atol, "hidden": part.hidden, "check": check}

