"""Self-grading for a learner alone: ``bplearn submit NOTEBOOK`` and ``bplearn progress [DIR]``.

``submit`` grades the notebook with the instructor's judge (job.py) on the visible parts
shipped with bplearn, in the sandbox where the platform has one (and says so where not).
Hidden parts are the instructor's: they are listed, not graded. No nbgrader database, no
instructor, no network.

``progress`` lists the lessons and exercises in a course folder with what has been done:
a lesson counts as run when it has outputs, an exercise by its last self-graded score
(kept next to it in ``.bplearn-progress.json``).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..feedback.shipped import load_visible
from .job import format_result, grade_with_visible
from .sandbox import bwrap_path

PROGRESS_FILE = ".bplearn-progress.json"
_EXERCISE = re.compile(r"^(ex\d\d)_\w+$")


def exercise_name(notebook: Path) -> str:
    """The exercise a notebook is: its file stem (ex03_huber_loss), or the name in its metadata."""
    stem = Path(notebook).stem
    for candidate in (stem, stem.split("-")[0], stem.split(" ")[0]):
        if _EXERCISE.match(candidate):
            return candidate
    raise ValueError(f"{Path(notebook).name} is not named like an exercise (exNN_name.ipynb); "
                     "keep the file name the exercise came with")


def released_notebook(name: str) -> dict:
    """The exercise as shipped: its locked cells are what self-grading restores."""
    from ..cli import notebook_dirs

    path = notebook_dirs()[1] / f"{name}.ipynb"
    if not path.exists():
        raise FileNotFoundError(f"this bplearn has no exercise {name} (looked for {path})")
    return json.loads(path.read_text(encoding="utf-8"))


def submit(notebook: Path, *, out=print) -> int:
    """Grade ``notebook`` on the visible parts; print the per-part report. Exit status 0 if graded."""
    notebook = Path(notebook)
    name = exercise_name(notebook)
    data = load_visible(name)
    mode = "auto"
    if bwrap_path() is None:
        out("Note: no sandbox on this platform (bubblewrap is Linux-only); your code runs in a separate "
            "process without one. That only matters to instructors grading others' code.")
    result = grade_with_visible(notebook, data, released_notebook(name), mode=mode)
    out(format_result(result))
    if data["hidden_parts"]:
        out(f"Hidden parts ({', '.join(data['hidden_parts'])}, {data['hidden_points']:g} point(s)) are graded "
            "by your instructor's judge only, on inputs you have not seen.")
    if result.get("stderr", "").strip():
        out("(your code wrote to stderr; that never costs points)")
    _remember(notebook, result)
    return 0 if result["status"] in ("graded", "tampered") else 1


def _remember(notebook: Path, result: dict) -> None:
    path = notebook.resolve().parent / PROGRESS_FILE
    try:
        data = json.loads(path.read_text()) if path.exists() else {}
        data[exercise_name(notebook)] = {"score": result["score"], "max_score": result["max_score"],
                                         "status": result["status"]}
        path.write_text(json.dumps(data, indent=1, sort_keys=True))
    except (OSError, ValueError):
        pass   # progress is a convenience: a read-only folder must not fail the grading


def progress(folder: Path, *, out=print) -> int:
    """Print lessons (run or not) and exercises (last self-graded score) found under ``folder``."""
    folder = Path(folder)
    lessons = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    exercises = sorted(folder.rglob("ex[0-9][0-9]_*.ipynb"))
    if not lessons and not exercises:
        out(f"No lessons or exercises in {folder}. Get them with `bplearn course DIR`.")
        return 1
    scores = {}
    for p in {e.parent / PROGRESS_FILE for e in exercises}:
        if p.exists():
            scores.update(json.loads(p.read_text()))
    for lesson in lessons:
        out(f"  {'✔' if _has_outputs(lesson) else '·'} lesson {lesson.stem}")
    for ex in exercises:
        s = scores.get(ex.stem)
        out(f"  {'✔' if s and s['score'] == s['max_score'] else '·'} {ex.stem:<28} "
            + (f"{s['score']:g}/{s['max_score']:g} visible points" if s else "not self-graded yet"))
    done = sum(_has_outputs(p) for p in lessons)
    out(f"{done} of {len(lessons)} lessons run, {len(scores)} of {len(exercises)} exercises self-graded.")
    return 0


def _has_outputs(notebook: Path) -> bool:
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return False
    return any(c.get("outputs") for c in cells if c.get("cell_type") == "code")
