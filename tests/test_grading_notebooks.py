"""The exercise notebooks: nbgrader structure, feedback-giving tests, and exercises/ in sync.

Running them is someone else's job: nbval runs solutions/ (strict), and
test_grading_autograde.py grades solutions and untouched exercises with nbgrader.
"""
import json
import pathlib
import re

import pytest

from bplearn.grading.generate import generate

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
TOPICS = ["chain_rule", "value_backward", "linear_backward", "softmax_cross_entropy", "sgd_momentum",
          "conv_backward", "maxpool_backward", "bptt", "lstm_gate"]
ids = [p.stem for p in SOLUTIONS]


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def meta(cell):
    return cell["metadata"].get("nbgrader", {})


def source(cell):
    return "".join(cell["source"])


def test_there_is_one_exercise_per_topic_in_course_order():
    assert [p.stem for p in SOLUTIONS] == [f"ex{i:02d}_{topic}" for i, topic in enumerate(TOPICS, start=1)]


def test_exercises_folder_is_exactly_what_the_generator_produces(tmp_path, monkeypatch):
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    generate(ROOT / "solutions", tmp_path / "out")
    committed = {p.name: p.read_bytes() for p in (ROOT / "exercises").glob("*.ipynb")}
    fresh = {p.name: p.read_bytes() for p in (tmp_path / "out").glob("*.ipynb")}
    assert sorted(committed) == sorted(fresh)
    stale = [name for name in fresh if committed[name] != fresh[name]]
    assert not stale, f"exercises/ is out of date for {stale}: run `python -m bplearn.grading generate`"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids)
def test_solution_cells_mark_their_solution_region(path):
    solutions = [c for c in cells(path) if meta(c).get("solution")]
    assert solutions, "no solution cell"
    for cell in solutions:
        text = source(cell)
        assert cell["cell_type"] == "code" and not meta(cell).get("locked")
        assert text.count("### BEGIN SOLUTION") == text.count("### END SOLUTION") >= 1
        assert re.search(r"^def \w+\(", text, re.M), "the learner writes a function"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids)
def test_graded_test_cells_have_points_hidden_tests_and_kind_feedback(path):
    tests = [c for c in cells(path) if meta(c).get("grade")]
    assert len(tests) >= 2
    for cell in tests:
        text, m = source(cell), meta(cell)
        assert m["locked"] and m["points"] > 0 and text.startswith("# Test")
        assert f"({m['points']} point" in text.splitlines()[0], "the first line states the points"
        visible, _, hidden = text.partition("### BEGIN HIDDEN TESTS")
        assert hidden and "### END HIDDEN TESTS" in hidden
        # the visible part fails with a message from bplearn.feedback, never a bare assert
        assert re.search(r"^from bplearn\.feedback import .*check_", visible, re.M), "checker imported in the cell"
        assert re.search(r"\bcheck_(gradient|close|scalar)\(", visible)
        assert not re.search(r"^\s*assert\b", visible, re.M)
        # the hidden part ends with plain asserts that do not depend on the helpers (so patching them gains nothing)
        assert re.search(r"^\s*assert\b", hidden, re.M)


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids)
def test_each_test_cell_directly_follows_a_solution_or_test_cell(path):
    # nbgrader re-inserts a deleted test cell after the nbgrader cell that preceded it in the
    # source, and fails for the whole notebook if that cell is not a solution or test cell.
    tracked = [c for c in cells(path) if meta(c).get("grade_id")]
    for before, cell in zip(tracked, tracked[1:]):
        if meta(cell).get("grade"):
            assert meta(before).get("solution") or meta(before).get("grade"), meta(cell)["grade_id"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids)
def test_instruction_and_setup_cells_are_locked(path):
    for cell in cells(path):
        if not meta(cell).get("solution"):
            assert meta(cell).get("locked"), f"cell {cell.get('id')} is not locked"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids)
def test_exercises_are_self_contained_numpy(path):
    imports = set(re.findall(r"^\s*(?:from|import) (\S+)", "\n".join(source(c) for c in cells(path)), re.M))
    assert imports <= {"numpy", "math", "builtins", "bplearn.feedback", "bplearn.gradcheck"}, imports


@pytest.mark.parametrize("path", sorted((ROOT / "exercises").glob("*.ipynb")), ids=lambda p: p.stem)
def test_learner_versions_hide_solutions_hidden_tests_and_outputs(path):
    text = path.read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "raise NotImplementedError()" in text
    for cell in cells(path):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
        if not meta(cell).get("solution"):
            assert cell["metadata"].get("editable") is False and cell["metadata"].get("deletable") is False
