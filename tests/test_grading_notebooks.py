"""Exercises in the judge's format: every spec matches its notebook, the shipped visible
checks are what the specs produce, and learner versions hide solutions.

Old-format notebooks (no ``.judge.py`` beside them) are not checked here.
"""
import json
import pathlib

import pytest

from bplearn.feedback.shipped import VISIBLE_DIR
from bplearn.grading.generate import visible_data
from bplearn.grading.spec import check_notebook, load_spec

ROOT = pathlib.Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "solutions").glob("ex*.judge.py"))
ids = [p.name.split(".")[0] for p in SPECS]


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_spec_parts_are_exactly_the_graded_cells(spec):
    exercise = load_spec(spec)
    check_notebook(exercise)
    assert exercise.notebook == spec.name.split(".")[0]


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_shipped_visible_checks_are_up_to_date(spec):
    exercise = load_spec(spec)
    shipped = VISIBLE_DIR / f"{exercise.notebook}.json"
    assert shipped.exists(), f"run `python -m bplearn.grading generate` to write {shipped}"
    fresh = json.loads(json.dumps(visible_data(exercise), sort_keys=True))
    assert json.loads(shipped.read_text()) == fresh, f"{shipped.name} is stale: run `python -m bplearn.grading generate`"


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_learner_version_hides_solutions_and_hidden_tests(spec):
    path = ROOT / "exercises" / f"{spec.name.split('.')[0]}.ipynb"
    text = path.read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    for cell in json.loads(text)["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_no_hidden_part_is_shipped():
    for spec in SPECS:
        exercise = load_spec(spec)
        shipped = json.loads((VISIBLE_DIR / f"{exercise.notebook}.json").read_text())
        hidden = {p.id for p in exercise.parts if p.hidden}
        assert not hidden & {p["meta"]["id"] for p in shipped["parts"]}
