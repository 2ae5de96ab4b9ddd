"""solutions/ -> exercises/: the learner versions, made by nbgrader itself.

``nbgrader generate_assignment`` needs a course directory (``source/ASSIGNMENT/``) and
writes to ``release/ASSIGNMENT/``. We build that layout in a temporary directory, run
nbgrader's own converter there, and copy the result out. So the exercises are exactly
what an instructor's ``nbgrader generate_assignment`` would release: solution regions
replaced by ``raise NotImplementedError()``, hidden tests removed, outputs cleared,
instruction and test cells locked, checksums recorded for autograding.

The output depends only on the solution notebooks (no timestamps, no database), so a
test can regenerate it and compare bytes with the committed ``exercises/``.

Beside them go the visible checks, ``bplearn/feedback/visible/<exercise>.json``
(``visible_data``): what the learner's check cells and ``bplearn submit`` judge with.
"""
from __future__ import annotations

import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path

from ..feedback.shipped import VISIBLE_DIR, encode_case
from .judge import JUDGE_VERSION, draw_cases, part_meta

DEFAULT_ASSIGNMENT = "backprop"


def skip_slow_optional_import() -> None:
    """Call first thing in a process that only grades (the CLI, the workers).

    jsonschema, which nbformat uses, imports the optional package rfc3987_syntax if it can;
    that package builds a parser at import time (about 2.5 s per process) for a URI format
    check that validating notebooks never uses. Marking it absent saves that time.
    """
    sys.modules.setdefault("rfc3987_syntax", None)


def solution_notebooks(source: Path) -> list[Path]:
    """The notebooks of an assignment: source/*.ipynb, sorted, checkpoints excluded."""
    notebooks = sorted(Path(source).glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks (*.ipynb) found in {source}")
    return notebooks


def stage_source(notebooks, course_root: Path, assignment: str) -> None:
    """Copy the notebooks to course_root/source/ASSIGNMENT/, where generate_assignment reads them."""
    folder = Path(course_root) / "source" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for nb in notebooks:
        shutil.copyfile(nb, folder / nb.name)


def run_generate_assignment(course_root: Path, assignment: str, *, database: bool) -> Path:
    """Run nbgrader's generate_assignment in ``course_root`` (which has source/ASSIGNMENT/).

    database=True also records the assignment's cells in course_root/gradebook.db, which
    autograding needs (nbgrader then runs the ``alembic`` command, so the environment's
    bin directory must be on PATH). Returns the release directory.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(course_root)
    config.CourseDirectory.assignment_id = assignment
    config.GenerateAssignment.no_database = not database
    config.SaveCells.enabled = database
    config.BaseConverter.force = True
    converter = GenerateAssignment(coursedir=CourseDirectory(config=config), config=config)
    converter.log.setLevel(logging.WARNING)
    result = capture_log(converter)
    if not result["success"]:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{result.get('log', '')}{result.get('error', '')}")
    return Path(course_root) / "release" / assignment


def visible_data(exercise) -> dict:
    """What ships for one exercise: its visible parts' judging fields and cases, as plain JSON.

    The cases are drawn from the spec's fixed ``visible_seed``; hidden parts are only counted.
    Format: bplearn/feedback/shipped.py.
    """
    visible = [p for p in exercise.parts if not p.hidden]
    cases = draw_cases(exercise, exercise.visible_seed, visible)
    parts = [{"meta": _shippable_meta(p), "cases": [encode_case(c) for c in cases[p.id]]} for p in visible]
    hidden = [p for p in exercise.parts if p.hidden]
    return {"exercise": exercise.notebook, "lesson": exercise.lesson, "judge_version": JUDGE_VERSION,
            "seed": exercise.visible_seed, "parts": parts,
            "hidden_parts": [p.id for p in hidden], "hidden_points": float(sum(p.points for p in hidden))}


def _shippable_meta(part) -> dict:
    """part_meta without the spec's own check function (custom checks are never visible)."""
    meta = part_meta(part)
    if meta["check"] is not None:
        meta["check"] = {k: v for k, v in meta["check"].items() if k != "fn"}
    return meta


def write_visible(exercise, out_dir: Path = VISIBLE_DIR) -> Path:
    """Write ``out_dir/<exercise>.json`` (default: bplearn/feedback/visible/); return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{exercise.notebook}.json"
    path.write_text(json.dumps(visible_data(exercise), indent=None, sort_keys=True) + "\n", encoding="utf-8")
    return path


def write_visible_checks(notebooks, visible_out=None) -> list[Path]:
    """For every notebook with a judge spec beside it, write its shipped visible checks."""
    from .spec import check_notebook, load_spec, spec_path_for

    written = []
    for nb in notebooks:
        if spec_path_for(nb).exists():
            exercise = load_spec(spec_path_for(nb))
            check_notebook(exercise, nb)
            written.append(write_visible(exercise, Path(visible_out) if visible_out else VISIBLE_DIR))
    return written


def generate(source: Path, out: Path, assignment: str = DEFAULT_ASSIGNMENT, visible_out=None) -> list[Path]:
    """Write the learner version of every notebook in ``source`` to ``out``.

    Notebooks in ``out`` that no longer have a solution are removed; other files in
    ``out`` are left alone. Exercises with a judge spec (``exNN_name.judge.py``) also get
    their visible checks written to ``visible_out`` (default: bplearn/feedback/visible/).
    Returns the written notebook paths.
    """
    notebooks = solution_notebooks(source)
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="bplearn-generate-") as tmp:
        course = Path(tmp)
        stage_source(notebooks, course, assignment)
        release = run_generate_assignment(course, assignment, database=False)
        out.mkdir(parents=True, exist_ok=True)
        for stale in set(out.glob("*.ipynb")) - {out / nb.name for nb in notebooks}:
            stale.unlink()
        written = []
        for nb in notebooks:
            target = out / nb.name
            target.write_bytes((release / nb.name).read_bytes())  # plain write: no read-only bits
            written.append(target)
    write_visible_checks(notebooks, visible_out)
    return written
