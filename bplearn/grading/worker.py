"""The nbgrader side of autograding, run by ``autograde.py`` in a process of its own.

Two jobs, one per command line:

``python -m bplearn.grading.worker setup COURSE ASSIGNMENT``
    Run ``nbgrader generate_assignment`` in COURSE (with the database), then print the
    assignment's notebooks, test cells and points as JSON.
``python -m bplearn.grading.worker grade COURSE ASSIGNMENT STUDENT NOTEBOOK...``
    Autograde one student's notebooks with nbgrader, **one notebook at a time**: nbgrader
    abandons the whole submission when one notebook kills its kernel, so grading the
    notebooks separately keeps the others' scores. After each notebook one JSON line
    goes to COURSE/results.jsonl, so the parent keeps every finished result even if it
    has to stop this process.

Both read COURSE/nbgrader_config.py, which autograde.py writes (cell timeout and so on).
"""
from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

from .generate import run_generate_assignment, skip_slow_optional_import

RESULTS = "results.jsonl"

# Errors inside a graded notebook that change what its status means.
TIMEOUT_ERRORS = {"CellTimeoutError"}  # nbgrader's name for a cell cut off by Execute.timeout
MEMORY_ERRORS = {"MemoryError"}        # what numpy raises when the memory limit is reached


def load_config(course: Path):
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


def setup(course: Path, assignment: str) -> dict:
    """Generate the assignment into course/gradebook.db; return {notebook: {cell: points}}."""
    from nbgrader.api import Gradebook

    run_generate_assignment(course, assignment, database=True)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {nb.name: {cell.name: cell.max_score for cell in nb.grade_cells}
                for nb in sorted(gb.find_assignment(assignment).notebooks, key=lambda n: n.name)}


def grade(course: Path, assignment: str, student: str, notebooks: list[str]) -> None:
    """Autograde each notebook separately and append its result to course/results.jsonl."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    config = load_config(course)
    with open(course / RESULTS, "a", encoding="utf-8") as results:
        for notebook in notebooks:
            started = time.monotonic()
            coursedir = CourseDirectory(config=config)
            coursedir.assignment_id, coursedir.student_id, coursedir.notebook_id = assignment, student, notebook
            converter = Autograde(coursedir=coursedir, config=config)
            converter.force = True
            outcome = capture_log(converter)
            record = _describe(course, assignment, student, notebook, outcome)
            if _Stop.requested:  # the parent stopped us: the student's time budget is spent
                record.update(status="timed out", detail="the student's time limit ran out during this notebook")
            record["seconds"] = round(time.monotonic() - started, 2)
            results.write(json.dumps(record) + "\n")
            results.flush()
            if _Stop.requested:
                return


def _describe(course, assignment, student, notebook, outcome) -> dict:
    """Status, explanation and per-cell scores of one autograded notebook."""
    cells = _scores(course, assignment, student, notebook)
    graded = course / "autograded" / student / assignment / f"{notebook}.ipynb"
    if outcome["success"] and graded.exists():
        errors = _cell_errors(graded)
        for cell_id, messages in errors.items():
            if cell_id in cells:
                cells[cell_id]["error"] = " / ".join(messages)
        names = {message.split(":")[0] for messages in errors.values() for message in messages}
        if names & TIMEOUT_ERRORS:
            status, detail = "timed out", "a cell ran past the per-cell time limit and was interrupted"
        elif names & MEMORY_ERRORS:
            status, detail = "out of memory", "a cell hit the memory limit (MemoryError)"
        else:
            status, detail = "graded", ""
    else:
        status, detail = _failure(outcome.get("log", "") + outcome.get("error", ""))
        print(f"--- nbgrader could not grade {notebook} ---\n{outcome.get('log', '')}", flush=True)
    return {"notebook": notebook, "status": status, "detail": detail,
            "score": sum(c["score"] for c in cells.values()),
            "max_score": sum(c["max_score"] for c in cells.values()), "cells": cells}


def _scores(course, assignment, student, notebook) -> dict:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        try:
            submitted = gb.find_submission_notebook(notebook, assignment, student)
        except MissingEntry:  # nbgrader failed before it recorded the submission
            cells = gb.find_notebook(notebook, assignment).grade_cells
            return {c.name: {"score": 0.0, "max_score": c.max_score} for c in cells}
        return {g.name: {"score": float(g.score or 0.0), "max_score": float(g.max_score)}
                for g in sorted(submitted.grades, key=lambda g: g.name)}


def _cell_errors(path: Path) -> dict:
    """{grade_id (or "cell N"): ["Ename: first line of the message", ...]} for cells that raised.

    A cell cut off by the time limit shows two errors: KeyboardInterrupt from the
    interrupt, then nbgrader's CellTimeoutError.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    errors = {}
    for index, cell in enumerate(nb["cells"]):
        cell_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", f"cell {index}")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                lines = str(output.get("evalue", "")).strip().splitlines()
                errors.setdefault(cell_id, []).append(f"{output.get('ename')}: {lines[0] if lines else ''}"[:400])
    return errors


def _failure(text: str) -> tuple[str, str]:
    """(status, explanation) for a notebook nbgrader gave up on, from its log."""
    if "DeadKernelError" in text or "Kernel died" in text:
        return "crashed", "the kernel died while running the notebook (os._exit, a crash in compiled code, or killed)"
    if "CellTimeoutError" in text or "UnresponsiveKernelError" in text:
        return "timed out", "a cell ran past the time limit and the kernel could not be interrupted"
    if "MemoryError" in text:
        return "out of memory", "the grader ran out of memory while handling this notebook"
    if "NotJSONError" in text or "JSONDecodeError" in text or "does not appear to be JSON" in text:
        return "crashed", "the file is not a readable notebook"
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return "crashed", "nbgrader could not grade this notebook: " + (lines[-1][:300] if lines else "no log")


class _Stop:
    requested = False


def _stop_gracefully(signum, frame):
    _Stop.requested = True
    raise SystemExit(f"stopped by signal {signum}")  # unwinds nbclient, which shuts the kernel down


def main(argv: list[str]) -> int:
    skip_slow_optional_import()
    signal.signal(signal.SIGTERM, _stop_gracefully)
    command, course, assignment, *rest = argv
    if command == "setup":
        print(json.dumps(setup(Path(course), assignment)))
    elif command == "grade":
        grade(Path(course), assignment, rest[0], rest[1:])
    else:
        raise SystemExit(f"unknown command {command!r}; use setup or grade")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
