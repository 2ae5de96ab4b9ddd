"""Class grading with the judge over the real exercises, and the judge's scores in nbgrader.

One batch for the module grades every exercise of solutions/ that declares the judge format
(a ``.judge.py`` beside it): the solutions must score full marks and the untouched learner
versions zero, each part saying "not done". Attacks are in test_attacks.py, on a toy exercise.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bplearn.grading.autograde import autograde
from bplearn.grading.generate import run_generate_assignment, stage_source
from bplearn.grading.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS, EXERCISES, FIXTURES = ROOT / "solutions", ROOT / "exercises", ROOT / "tests" / "grading_fixtures"
JUDGED = sorted(p.stem for p in SOLUTIONS.glob("ex*.ipynb") if p.with_name(p.stem + ".judge.py").exists())


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    if not JUDGED:
        pytest.skip("no exercise in solutions/ declares the judge format yet")
    base = tmp_path_factory.mktemp("class")
    for student, folder in (("honest", SOLUTIONS), ("blank", EXERCISES)):
        (base / "subs" / student).mkdir(parents=True)
        for name in JUDGED:
            (base / "subs" / student / f"{name}.ipynb").write_bytes((folder / f"{name}.ipynb").read_bytes())
    (base / "roster.txt").write_text("absent\nhonest\n")
    report = autograde(base / "subs", "backprop", base / "grades.csv", source=SOLUTIONS, workers=2,
                       roster=base / "roster.txt", seed=11, limits=Limits(wall=60), log=lambda *a: None)
    return {row["student"]: row for row in report["students"]} | {"_csv": (base / "grades.csv").read_text()}


@pytest.mark.parametrize("name", JUDGED)
def test_solution_scores_full_marks(batch, name):
    result = batch["honest"]["exercises"][name]
    assert result["status"] == "graded", result.get("note")
    assert result["score"] == result["max_score"] > 0, [p for p in result["parts"] if p["status"] != "correct"]


@pytest.mark.parametrize("name", JUDGED)
def test_untouched_exercise_scores_zero_with_feedback(batch, name):
    result = batch["blank"]["exercises"][name]
    assert result["status"] == "graded" and result["score"] == 0
    assert all(p["feedback"] for p in result["parts"])


def test_roster_student_without_a_submission_is_missing_and_csv_has_every_exercise(batch):
    assert batch["absent"]["status"] == "missing" and batch["absent"]["score"] == 0
    header = batch["_csv"].splitlines()[0].split(",")
    assert header[:4] == ["student", "status", "score", "max_score"] and header[4:-1] == JUDGED


def test_judge_scores_are_written_into_nbgraders_gradebook(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    stage_source([FIXTURES / "ex00_toy.ipynb"], course, "toy")
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jcfg"))
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])  # nbgrader runs alembic
    run_generate_assignment(course, "toy", database=True)
    subs = tmp_path / "subs" / "alice"
    subs.mkdir(parents=True)
    nb = json.loads((FIXTURES / "ex00_toy.ipynb").read_text())
    for c in nb["cells"]:
        c["source"] = "".join(c["source"]).replace("dw = (dout * x).sum(axis=0)", "dw = (dout * x).mean(axis=0)")
    (subs / "ex00_toy.ipynb").write_text(json.dumps(nb))
    db = f"sqlite:///{course / 'gradebook.db'}"
    autograde(tmp_path / "subs", "toy", tmp_path / "g.csv", source=FIXTURES, seed=1, gradebook=db, log=lambda *a: None)
    with Gradebook(db) as gb:
        sub = gb.find_submission_notebook("ex00_toy", "toy", "alice")
        scores = {g.name: g.score for g in sub.grades}
    assert scores["ex00-dw"] == 0 and scores["ex00-dx"] == 1 and sum(scores.values()) == 4


def test_cli_reports_a_missing_submissions_folder_without_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bplearn.grading", "autograde", str(tmp_path / "nope"),
                           "--assignment", "backprop", "--out", str(tmp_path / "r.csv")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: submissions directory {tmp_path / 'nope'} does not exist"
