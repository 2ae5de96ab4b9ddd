"""Grade a class: one judge job per (student, exercise), run side by side, merged afterwards.

    python -m bplearn.grading autograde SUBMISSIONS --assignment backprop --out grades/backprop.csv

SUBMISSIONS holds one folder per student id, with the notebooks directly inside or in an
assignment folder (nbgrader's ``submitted/<id>/<assignment>/``). Every exercise of
``--source`` that has a judge spec (``exNN_name.judge.py``) is graded.

* **One job per notebook** (``python -m bplearn.grading job ...``, see job.py), ``workers``
  at a time. Each job writes one JSON file in the results folder (``OUT.results/<student>/
  <exercise>.json``), atomically. Learner code runs inside the job's sandbox, which cannot
  see SUBMISSIONS, the results folder, the gradebook or solutions/; so no job can change
  another's result, and the merged CSV/JSON is written by this trusted process only.
* **Resumable.** The run's seed is kept in ``OUT.results/run.json``; run the same command
  again after an interruption and the finished results are kept, the rest graded.
* **Merged**: ``OUT`` (CSV, one row per student, one column per exercise) and ``OUT`` with
  .json (every part's points, status and feedback, the seed and judge version).
* ``--gradebook sqlite:///gradebook.db``: the judge's scores are written into nbgrader's
  gradebook (per graded cell = per part), so formgrader and ``nbgrader export`` use them.
"""
from __future__ import annotations

import csv
import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

from .judge import JUDGE_VERSION
from .job import STATUSES, write_result
from .sandbox import Limits
from .spec import load_spec, spec_path_for

STUDENT_STATUSES = (*STATUSES, "missing")
_BAD_ID = re.compile(r"[*?\[\]/\\]|^\.\.?$|^$")


def exercises_in(source) -> dict:
    """{notebook stem: Exercise} for every solution notebook in ``source`` with a judge spec."""
    found = {}
    for nb in sorted(Path(source).glob("*.ipynb")):
        if spec_path_for(nb).exists():
            found[nb.stem] = load_spec(spec_path_for(nb))
    if not found:
        raise FileNotFoundError(f"no exercise with a judge spec (*.judge.py next to a notebook) in {source}")
    return found


def autograde(submissions, assignment: str, out, *, source="solutions", workers: int = 2, roster=None,
              seed: int | None = None, limits: Limits | None = None, gradebook: str | None = None,
              log=print) -> dict:
    """Grade every student folder; write OUT (CSV) and OUT.json; return the merged report."""
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    if not submissions.is_dir():
        raise FileNotFoundError(f"submissions directory {submissions} does not exist")
    exercises = exercises_in(source)
    results_dir = out.with_name(out.stem + ".results")
    seed = _run_seed(results_dir, seed, assignment)
    started = time.monotonic()
    jobs, done = _plan(submissions, results_dir, exercises, assignment, roster, seed)
    log(f"{len(jobs)} notebook(s) to grade, {done} already graded; seed {seed}; {workers} worker(s)")
    run_jobs(jobs, workers, limits or Limits(), seed, log)
    report = merge(results_dir, exercises, _students(submissions, roster), assignment, seed)
    write_report(report, out)
    if gradebook:
        from .gradebook import write_scores

        write_scores(gradebook, assignment, report)
    log(f"graded in {time.monotonic() - started:.1f} s; wrote {out} and {out.with_suffix('.json')}")
    return report


def _run_seed(results_dir: Path, seed, assignment) -> int:
    """The seed of this run: the one given, else the interrupted run's, else a fresh one."""
    run = results_dir / "run.json"
    if run.exists():
        previous = json.loads(run.read_text())
        if seed is None or int(seed) == previous["seed"]:
            return int(previous["seed"])
        raise FileExistsError(f"{results_dir} holds a run with seed {previous['seed']}; "
                              "use another --out (or remove that folder) to grade with a new seed")
    seed = secrets.randbits(62) if seed is None else int(seed)
    results_dir.mkdir(parents=True, exist_ok=True)
    write_result({"seed": seed, "assignment": assignment, "judge_version": JUDGE_VERSION}, run)
    return seed


def _students(submissions: Path, roster) -> list[str]:
    found = {p.name for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")}
    if roster:
        found |= {line.strip() for line in Path(roster).read_text().splitlines() if line.strip()}
    return sorted(found)


def _plan(submissions, results_dir, exercises, assignment, roster, seed):
    """The jobs still to run, and how many results are already there (kept from an earlier run)."""
    jobs, done = [], 0
    for student in _students(submissions, roster):
        if _BAD_ID.search(student):
            continue
        folder = submissions / student
        folder = folder / assignment if (folder / assignment).is_dir() else folder
        for name, exercise in exercises.items():
            notebook, result = folder / f"{name}.ipynb", results_dir / student / f"{name}.json"
            if not notebook.exists() and not notebook.is_symlink():
                continue
            if _finished(result, seed):
                done += 1
            else:
                jobs.append((notebook, exercise.path, result))
    return jobs, done


def _finished(result: Path, seed: int) -> bool:
    try:
        data = json.loads(result.read_text())
    except (OSError, ValueError):
        return False
    return data.get("seed") == seed and data.get("judge_version") == JUDGE_VERSION


def job_command(notebook, spec, result, seed, limits: Limits) -> list[str]:
    """The self-contained command for one job (what a batch engine would run)."""
    return [sys.executable, "-m", "bplearn.grading", "job", str(notebook), "--spec", str(spec), "--out", str(result),
            "--seed", str(seed), "--time", str(limits.wall), "--memory", str(limits.memory_mb),
            "--cell-timeout", str(limits.cell_timeout)]


def run_jobs(jobs, workers: int, limits: Limits, seed: int, log=print) -> None:
    """Run the job commands, ``workers`` at a time; a job that fails gets a crashed result."""
    pending, running = list(jobs), []
    while pending or running:
        while pending and len(running) < workers:
            notebook, spec, result = pending.pop(0)
            process = subprocess.Popen(job_command(notebook, spec, result, seed, limits), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            running.append((process, notebook, spec, result, time.monotonic()))
        time.sleep(0.02)
        for item in list(running):
            process, notebook, spec, result, started = item
            if process.poll() is None and time.monotonic() - started > limits.wall + 120:
                process.kill()
            if process.poll() is not None:
                running.remove(item)
                if not _finished(result, seed):
                    problem = process.stderr.read().decode(errors="replace")[-400:]
                    write_result({"exercise": Path(notebook).stem, "seed": seed, "judge_version": JUDGE_VERSION,
                                  "status": "crashed", "score": 0.0, "parts": [],
                                  "note": f"the grading job failed: {problem.strip()}"}, result)
                    log(f"job for {notebook} failed: {problem.strip()[-200:]}")
                process.stderr.close()


# --- merging --------------------------------------------------------------------------------

def merge(results_dir: Path, exercises: dict, students: list, assignment: str, seed: int) -> dict:
    """One report from the per-job results; absent results are 'missing'."""
    rows = []
    for student in students:
        per = {}
        for name, exercise in exercises.items():
            path = results_dir / student / f"{name}.json"
            data = json.loads(path.read_text()) if not _BAD_ID.search(student) and path.exists() else None
            per[name] = data or {"status": "missing", "score": 0.0, "parts": [], "note": "not submitted"}
            per[name]["max_score"] = exercise.points
        rows.append(_student_row(student, per))
    return {"assignment": assignment, "seed": seed, "judge_version": JUDGE_VERSION,
            "max_scores": {name: e.points for name, e in exercises.items()}, "students": rows}


def _student_row(student: str, per: dict) -> dict:
    submitted = [r["status"] for r in per.values() if r["status"] != "missing"]
    status = max(submitted, key=STUDENT_STATUSES.index) if submitted else "missing"
    notes = [f"{name}: {r['status']} ({r.get('note', '')})" for name, r in per.items()
             if r["status"] not in ("graded", "missing")]
    absent = [name for name, r in per.items() if r["status"] == "missing"]
    if absent and submitted:
        notes.append("not submitted: " + ", ".join(absent))
    if _BAD_ID.search(student):
        notes = [f"folder name {student!r} cannot be a student id"]
    return {"student": student, "status": status, "score": sum(r["score"] for r in per.values()),
            "max_score": sum(r["max_score"] for r in per.values()), "exercises": per, "notes": "; ".join(notes)}


def write_report(report: dict, out: Path) -> None:
    """CSV (one row per student) and the full JSON, each written atomically."""
    names = list(report["max_scores"])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "status", "score", "max_score", *names, "notes"])
        for r in report["students"]:
            writer.writerow([r["student"], r["status"], f"{r['score']:g}", f"{r['max_score']:g}",
                             *[f"{r['exercises'][n]['score']:g}" for n in names], r["notes"]])
    os.replace(tmp, out)
    write_result(report, out.with_suffix(".json"))


def format_table(report: dict) -> str:
    rows = report["students"]
    width = max([len(r["student"]) for r in rows] + [7])
    lines = [f"{'student':<{width}}  {'status':<14}  score"]
    lines += [f"{r['student']:<{width}}  {r['status']:<14}  {r['score']:g}/{r['max_score']:g}" for r in rows]
    return "\n".join(lines)
