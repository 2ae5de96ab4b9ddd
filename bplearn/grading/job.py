"""One submission = one job: a notebook in, a JSON result out.

    python -m bplearn.grading job SUBMISSION.ipynb --spec solutions/ex03_x.judge.py --out result.json [--seed S]

The job is self-contained (it needs bplearn, the spec and its solution notebook, nothing
shared with other jobs), so a class is graded by running many of them side by side, here
or on a batch engine, and merging the JSON files afterwards (``autograde.py``).

The result records the seed and the judge version, so a regrade with ``--seed`` gives the
same inputs and the same score.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from ..errors import NotANotebook
from ..feedback.parts import NO_RESULT, Case, PartResult, judge_part
from ..feedback.shipped import decode_case
from . import sandbox
from .judge import JUDGE_VERSION, build_program, draw_cases, part_meta, read_notebook, read_outputs, write_workdir
from .spec import Exercise, Probe

STATUSES = ("graded", "tampered", "crashed", "memory", "timeout", "not a notebook")   # from good to bad
_SANDBOX_STOPS = {"timeout": "the time limit ran out", "memory": "the memory limit was reached",
                  "crashed": "the process ended early (os._exit, sys.exit in a thread, a crash, or too many processes)"}


def grade_notebook(submission, exercise: Exercise, *, seed: int | None = None, visible_only: bool = False,
                   mode: str | None = None, limits: sandbox.Limits | None = None) -> dict:
    """Grade one submitted notebook against an exercise spec (the instructor's judge).

    seed: the inputs' seed (fresh if None). visible_only: the visible parts only.
    mode: "auto" / "require" / "off" for the sandbox (default: "require" if
    BPLEARN_REQUIRE_SANDBOX=1 or CI=true, else "auto"). Returns the result as a dict.
    """
    seed = secrets.randbits(62) if seed is None else int(seed)
    parts = [p for p in exercise.parts if not (visible_only and p.hidden)]
    metas = [part_meta(p) for p in parts]
    identity = {"exercise": exercise.notebook, "judge_version": JUDGE_VERSION, "spec_digest": exercise.digest(),
                "seed": seed, "visible_only": visible_only}
    template = json.loads(Path(exercise.solution_notebook()).read_text(encoding="utf-8"))
    secret = [exercise.path.parent]

    def cases():
        return draw_cases(exercise, seed, parts)
    return _grade(Path(submission), template, metas, parts, cases, identity, mode, limits, secret)


def grade_with_visible(submission, data: dict, template: dict, *, mode: str | None = None,
                       limits: sandbox.Limits | None = None) -> dict:
    """Self-grading: the shipped visible parts (``bplearn.feedback.shipped.load_visible``) judged the same way.

    template: the released exercise notebook (its locked cells are what is restored).
    """
    metas = [p["meta"] for p in data["parts"]]
    parts = [_ProbeOnly(m["id"], Probe(**m["probe"])) for m in metas]
    identity = {"exercise": data["exercise"], "judge_version": JUDGE_VERSION, "seed": data["seed"],
                "visible_only": True, "hidden_parts": data["hidden_parts"], "hidden_points": data["hidden_points"]}

    def cases():
        return {p["meta"]["id"]: [decode_case(c) for c in p["cases"]] for p in data["parts"]}
    return _grade(Path(submission), template, metas, parts, cases, identity, mode, limits, [])


class _ProbeOnly:
    def __init__(self, id, probe):
        self.id, self.probe = id, probe


def _grade(submission: Path, template: dict, metas, parts, make_cases, identity, mode, limits, secret) -> dict:
    started = time.monotonic()
    limits = limits or sandbox.Limits()
    mode = mode or ("require" if sandbox.sandbox_required() else "auto")
    result = {**identity, "submission": submission.name, "max_score": float(sum(m["points"] for m in metas))}
    try:
        nb = read_notebook(submission)
    except NotANotebook as exc:
        parts = [_absent(m, str(exc)) for m in metas]
        return _finish(result, "not a notebook", parts, str(exc), started)
    cells, tampered = build_program(template, nb)
    cases: dict = make_cases()
    workdir = Path(tempfile.mkdtemp(prefix="bplearn-job-"))
    try:
        write_workdir(workdir, cells, parts, cases, limits.cell_timeout)
        outcome = sandbox.run(workdir, limits, mode=mode, secrets=secret)
        answers = read_outputs(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    part_results = [_judge(m, cases[m["id"]], answers.get("parts", {}).get(m["id"]), outcome.status) for m in metas]
    result.update(sandbox=outcome.describe(), stdout=outcome.stdout, stderr=outcome.stderr,
                  cell_errors=answers.get("cell_errors", []), restored_cells=tampered)
    status = {"ok": "graded"}.get(outcome.status, outcome.status)
    if status == "graded" and not answers:
        status = "crashed"
    if status == "graded" and tampered:
        status = "tampered"
    note = _note(status, outcome, tampered)
    return _finish(result, status, part_results, note, started)


def _judge(meta, cases: list[Case], answers, sandbox_status):
    result = judge_part(meta, cases, answers)
    if result.status == NO_RESULT and sandbox_status in _SANDBOX_STOPS:
        result.feedback += f" The run was stopped: {_SANDBOX_STOPS[sandbox_status]}."
    return result


def _note(status: str, outcome, tampered) -> str:
    if status in _SANDBOX_STOPS:
        return _SANDBOX_STOPS[status] + "; parts answered before that keep their points"
    if status == "tampered":
        return ("locked cells were edited or deleted and have been restored from the release: "
                + ", ".join(map(str, tampered)))
    return ""


def _absent(meta, why: str):
    return PartResult(meta["id"], meta["quantity"], 0.0, float(meta["points"]), NO_RESULT, why, meta["hidden"])


def _finish(result: dict, status: str, parts, note: str, started: float) -> dict:
    result.update(status=status, note=note, score=float(sum(p.points for p in parts)),
                  parts=[vars(p) for p in parts], seconds=round(time.monotonic() - started, 2))
    return result


def write_result(result: dict, out: Path) -> None:
    """Write atomically: a reader (the merge) sees the old file or the whole new one."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result, indent=1), encoding="utf-8")
    os.replace(tmp, out)


def format_result(result: dict) -> str:
    """A learner-readable report: one block per part, then the total."""
    lines = [f"{result['exercise']}: {result['status']}" + (f" ({result['note']})" if result.get("note") else "")]
    for p in result["parts"]:
        mark = "✔" if p["status"] == "correct" else "✘"
        lines.append(f"  {mark} {p['id']:<22} {p['points']:g}/{p['max_points']:g}  {p['status']}")
        if p["status"] != "correct":
            lines += ["      " + line for line in p["feedback"].splitlines()]
    lines.append(f"Score: {result['score']:g} / {result['max_score']:g}")
    return "\n".join(lines)
