"""Autograde a class with nbgrader, so that no submission can hurt another.

    python -m bplearn.grading autograde SUBMISSIONS --assignment backprop --out results.csv

SUBMISSIONS holds one folder per student, named by student id, with the notebooks either
directly inside (``alice/ex01_chain_rule.ipynb``) or in an assignment folder, as in
nbgrader's ``submitted/`` directory (``alice/backprop/ex01_chain_rule.ipynb``).

How one bad submission is kept from touching anyone else's grade:

* **Nothing in SUBMISSIONS is changed.** Each student's files are copied into a scratch
  nbgrader course directory of their own (with a copy of the gradebook database), and
  graded there.
* **One process per student**, at most ``workers`` at a time, each with a wall-clock
  budget (``student_timeout``), a memory limit (RLIMIT_AS, inherited by the kernels it
  starts) and a CPU-time limit as a backstop. A student whose process has to be stopped
  keeps the notebooks graded so far; the rest are marked "timed out".
* **Inside a student's process** nbgrader grades one notebook at a time (see worker.py),
  with ``Execute.timeout`` seconds per cell, so an infinite loop costs one exercise and
  a kernel that dies costs one notebook.
* Test cells come from the database, not the submission: edited ones are restored and
  deleted ones added back (``OverwriteCells.add_missing_cells``).

Statuses, per exercise and per student (the student gets the worst of its exercises):
``graded``, ``out of memory``, ``timed out``, ``crashed``, ``missing`` (nothing submitted).

nbgrader runs student code as the grading user, without a sandbox. These limits stop
accidents and casual tampering, not a determined attacker: see docs/instructors.md.
"""
from __future__ import annotations

import csv
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .generate import solution_notebooks, stage_source
from .worker import RESULTS

STATUSES = ("graded", "out of memory", "timed out", "crashed", "missing")  # from good to bad
COURSE_ID = "bplearn"
_BAD_ID = re.compile(r"[*?\[\]/\\]")  # nbgrader globs and joins paths with the student id

_CONFIG = '''\
# Written by bplearn.grading.autograde for a scratch course directory.
c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = {course_id!r}
# seconds per cell; then the kernel is interrupted and the next cell runs
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120
# the outputs are in by then, and a stuck kernel is not waited for
c.Execute.shutdown_kernel = "immediate"
# Unix sockets under a per-student prefix: no TCP port races between parallel workers
c.KernelManager.transport = "ipc"
c.KernelManager.ip = {ipc!r}
# a deleted test cell is put back from the gradebook instead of being skipped
c.OverwriteCells.add_missing_cells = True
# huge outputs are cut in the autograded notebook
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
'''


@dataclass
class ExerciseResult:
    """One notebook of one student."""

    status: str
    score: float
    max_score: float
    detail: str = ""
    cells: dict = field(default_factory=dict)   # grade_id -> {"score", "max_score", "error"?}


@dataclass
class StudentResult:
    student: str
    status: str
    score: float
    max_score: float
    exercises: dict                              # notebook name -> ExerciseResult
    notes: str = ""
    seconds: float = 0.0


@dataclass
class _Job:
    student: str
    course: Path
    notebooks: list
    process: subprocess.Popen | None = None
    started: float = 0.0
    killed: bool = False


# --- the whole run --------------------------------------------------------------------------

def autograde(submissions, assignment: str, out, *, source="solutions", timeout: int = 30,
              student_timeout: int = 600, memory_mb: int = 2048, workers: int = 2,
              roster=None, keep_workdir=None, log=print) -> list[StudentResult]:
    """Grade every student folder in ``submissions``; write ``out`` (CSV) and its .json twin.

    source: the solution notebooks (with nbgrader metadata) that define the assignment.
    timeout: seconds per cell.  student_timeout: wall-clock seconds per student.
    memory_mb: address-space limit per process.  roster: optional file of student ids
    (one per line) so that students who submitted nothing are listed as missing.
    keep_workdir: keep the scratch course directories there (autograded notebooks, logs).
    """
    submissions, out = Path(submissions).resolve(), Path(out).resolve()  # workers run in other directories
    if not submissions.is_dir():
        raise FileNotFoundError(f"submissions directory {submissions} does not exist")
    solutions = solution_notebooks(source)
    if keep_workdir and Path(keep_workdir).exists() and any(Path(keep_workdir).iterdir()):
        raise FileExistsError(f"--keep-workdir {keep_workdir} is not empty; give a new or empty directory")
    started = time.monotonic()
    scratch = Path(keep_workdir).resolve() if keep_workdir else Path(tempfile.mkdtemp(prefix="bplearn-autograde-"))
    scratch.mkdir(parents=True, exist_ok=True)
    runtime = _runtime_dir(scratch)
    try:
        env = _grading_env(scratch, runtime)
        points = _prepare_template(scratch / "template", solutions, assignment, timeout, env)
        results, jobs = {}, []
        for index, student in enumerate(_students(submissions, roster)):
            folder = _submission_folder(submissions, student, assignment)
            result, job = _prepare_student(scratch, folder, student, assignment, points, timeout,
                                           ipc=runtime / f"s{index}")
            if job is None:
                results[student] = result
            else:
                jobs.append(job)
        log(f"grading {len(jobs)} submission(s) with {workers} worker(s) ...")
        for job, records, problem in _run_jobs(jobs, assignment, env, student_timeout, memory_mb, workers):
            results[job.student] = _student_result(job, records, problem, points)
        ordered = [results[s] for s in sorted(results)]
        write_results(ordered, points, out, assignment)
        log(f"graded {len(jobs)} submission(s) in {time.monotonic() - started:.1f} s; wrote {out}")
        return ordered
    finally:
        if not runtime.is_relative_to(scratch):
            shutil.rmtree(runtime, ignore_errors=True)
        if not keep_workdir:
            shutil.rmtree(scratch, ignore_errors=True)


def _runtime_dir(scratch: Path) -> Path:
    """Jupyter's runtime directory (connection files, the kernels' Unix sockets).

    Inside scratch unless that path is too long: a socket path may have at most 107
    characters, and ours are this directory + "/s<n>-<k>".
    """
    inside = scratch / "jupyter-runtime"
    if len(str(inside)) <= 90:
        inside.mkdir()
        return inside
    return Path(tempfile.mkdtemp(prefix="bpg-"))


def _grading_env(scratch: Path, runtime: Path) -> dict:
    """Environment for the workers: private Jupyter dirs and a kernelspec for this Python."""
    data = scratch / "jupyter-data"
    kernel = data / "kernels" / "python3"
    kernel.mkdir(parents=True, exist_ok=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (grading)", "language": "python"}))
    env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_PATH", "PYTHONSTARTUP")}
    env.update(
        JUPYTER_DATA_DIR=str(data),                 # searched first: "python3" is this Python
        JUPYTER_CONFIG_DIR=str(scratch / "jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(runtime),
        IPYTHONDIR=str(scratch / "ipython"),        # no profile or startup files of the grader's
        MPLCONFIGDIR=str(scratch / "mpl"), MPLBACKEND="Agg",
        OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",  # one core per worker
        MALLOC_ARENA_MAX="2",  # fewer per-thread malloc arenas: address space then tracks real use
        PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),  # nbgrader runs `alembic`
        PYTHONUNBUFFERED="1",
    )
    return env


def _prepare_template(template: Path, solutions, assignment, timeout, env) -> dict:
    """A course directory with the assignment in its gradebook; returns {notebook: {cell: points}}."""
    stage_source(solutions, template, assignment)
    _write_config(template, timeout, template / "kernel")  # no kernel runs here
    done = subprocess.run([sys.executable, "-m", "bplearn.grading.worker", "setup", str(template), assignment],
                          cwd=template, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _write_config(course: Path, timeout: int, ipc: Path) -> None:
    (course / "nbgrader_config.py").write_text(
        _CONFIG.format(root=str(course), course_id=COURSE_ID, timeout=int(timeout), ipc=str(ipc)))


def _students(submissions: Path, roster) -> list[str]:
    found = {p.name for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")}
    if roster:
        found |= {line.strip() for line in Path(roster).read_text().splitlines() if line.strip()}
    return sorted(found)


def _submission_folder(submissions: Path, student: str, assignment: str) -> Path:
    folder = submissions / student
    return folder / assignment if (folder / assignment).is_dir() else folder


def _prepare_student(scratch, folder, student, assignment, points, timeout, ipc):
    """Copy one student's files into a course directory of their own; return (result, job)."""
    missing = {nb: _not_submitted(cells) for nb, cells in points.items()}
    notebooks = sorted(p.stem for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink()) \
        if folder.is_dir() else []
    if _BAD_ID.search(student) or student in (".", ".."):     # ".." would point outside SUBMISSIONS
        return _summarise(student, missing, "crashed", f"folder name {student!r} cannot be an nbgrader student id"), None
    known = [nb for nb in notebooks if nb in points]
    if not known:
        note = "no submission" if not notebooks else "no notebook with an assignment name: " + ", ".join(notebooks)
        return _summarise(student, missing, "missing", note), None
    course = scratch / "students" / student
    shutil.copytree(scratch / "template", course, ignore=shutil.ignore_patterns("release"))
    _write_config(course, timeout, ipc)
    _copy_regular_files(folder, course / "submitted" / student / assignment)
    return None, _Job(student, course, known)


def _copy_regular_files(src: Path, dst: Path) -> None:
    """Copy src into dst, skipping symlinks (they could point anywhere) and checkpoints."""
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_symlink() or ".ipynb_checkpoints" in rel.parts or not path.is_file():
            continue
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dst / rel)
    dst.mkdir(parents=True, exist_ok=True)


# --- running the workers ------------------------------------------------------------------------

def _limits(memory_mb: int, cpu_seconds: int):
    """preexec_fn for a worker: limits that its kernels inherit."""
    def apply() -> None:
        memory = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    return apply


def _run_jobs(jobs, assignment, env, student_timeout, memory_mb, workers):
    """Run the jobs, ``workers`` at a time; yield (job, result records, problem) as each ends.

    A single thread polls the processes, so preexec_fn is safe to use.
    """
    pending, running = list(jobs), []
    while pending or running:
        while pending and len(running) < workers:
            job = pending.pop(0)
            command = [sys.executable, "-m", "bplearn.grading.worker", "grade", str(job.course), assignment,
                       job.student, *job.notebooks]
            with open(job.course / "worker.log", "wb") as logfile:
                job.process = subprocess.Popen(
                    command, cwd=job.course, env=env, stdout=logfile, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True,  # own process group: easy to stop
                    preexec_fn=_limits(memory_mb, student_timeout))
            job.started = time.monotonic()
            running.append(job)
        time.sleep(0.05)
        for job in list(running):
            if job.process.poll() is None and time.monotonic() - job.started > student_timeout:
                _stop(job.process)
                job.killed = True
            if job.process.poll() is not None:
                running.remove(job)
                yield job, _read_records(job.course), _problem(job)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the worker's process group (it shuts its kernel down), then SIGKILL."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _read_records(course: Path) -> dict:
    path = course / RESULTS
    if not path.exists():
        return {}
    records = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line cut short when the worker was stopped
            continue
        records[record["notebook"]] = record
    return records


def _problem(job: _Job) -> str:
    if job.killed:
        return "timed out"
    if job.process.returncode != 0:
        tail = (job.course / "worker.log").read_text(errors="replace").strip().splitlines()[-3:]
        return "crashed: " + " | ".join(tail)[-300:]
    return ""


# --- results ------------------------------------------------------------------------------------

def _student_result(job, records, problem, points) -> StudentResult:
    exercises = {}
    for nb, cells in points.items():
        max_score = float(sum(cells.values()))
        if nb in records:
            r = records[nb]
            exercises[nb] = ExerciseResult(r["status"], r["score"], r["max_score"], r["detail"], r["cells"])
        elif nb not in job.notebooks:
            exercises[nb] = _not_submitted(cells)
        elif problem == "timed out":
            exercises[nb] = ExerciseResult("timed out", 0.0, max_score, "the student's time limit ran out first")
        else:
            exercises[nb] = ExerciseResult("crashed", 0.0, max_score, problem or "no result from the grader")
    result = _summarise(job.student, exercises)
    result.seconds = round(time.monotonic() - job.started, 1)
    return result


def _not_submitted(cells: dict) -> ExerciseResult:
    return ExerciseResult("missing", 0.0, float(sum(cells.values())), "not submitted")


def _summarise(student, exercises, status=None, note="") -> StudentResult:
    """Total the scores; the student's status is the worst status of a submitted exercise."""
    submitted = [e.status for e in exercises.values() if e.status != "missing"]
    if status is None:
        status = max(submitted, key=STATUSES.index) if submitted else "missing"
    notes = [note] if note else []
    notes += [f"{nb}: {e.status} ({e.detail})" for nb, e in exercises.items() if e.status not in ("graded", "missing")]
    absent = [nb for nb, e in exercises.items() if e.status == "missing"]
    if absent and submitted:
        notes.append("not submitted: " + ", ".join(absent))
    return StudentResult(student, status, sum(e.score for e in exercises.values()),
                         sum(e.max_score for e in exercises.values()), exercises, "; ".join(notes))


def write_results(results: list[StudentResult], points: dict, out: Path, assignment: str) -> None:
    """One CSV row per student (a column per exercise) and the full detail as JSON."""
    out.parent.mkdir(parents=True, exist_ok=True)
    notebooks = list(points)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "status", "score", "max_score", *notebooks, "notes"])
        for r in results:
            writer.writerow([r.student, r.status, _num(r.score), _num(r.max_score),
                             *[_num(r.exercises[nb].score) for nb in notebooks], r.notes])
    payload = {"assignment": assignment,
               "max_scores": {nb: float(sum(cells.values())) for nb, cells in points.items()},
               "students": [asdict(r) for r in results]}
    out.with_suffix(".json").write_text(json.dumps(payload, indent=1), encoding="utf-8")


def format_table(results: list[StudentResult]) -> str:
    """A plain-text summary: student, status, score."""
    width = max([len(r.student) for r in results] + [7])
    lines = [f"{'student':<{width}}  {'status':<13}  score"]
    lines += [f"{r.student:<{width}}  {r.status:<13}  {_num(r.score)}/{_num(r.max_score)}" for r in results]
    return "\n".join(lines)


def _num(x: float) -> str:
    return f"{x:g}"
