"""solutions/lessons/ -> course/: stubs replace answers; the committed course/ is in sync."""
import json
import pathlib

import pytest

from bplearn.grading.lessons import learner_notebook, learner_source, solution_lessons

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS = solution_lessons(ROOT / "solutions" / "lessons") if (ROOT / "solutions" / "lessons").exists() else []


def test_a_solution_block_becomes_its_stub_lines_or_an_ellipsis():
    source = ("def f(x):\n    \"\"\"doc\"\"\"\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
              "guess = None\n### BEGIN SOLUTION\nguess = 'down'\n### STUB: guess = None  # 'up' or 'down'?\n"
              "### END SOLUTION")
    assert learner_source(source) == ("def f(x):\n    \"\"\"doc\"\"\"\n    ...\nguess = None\n"
                                      "guess = None  # 'up' or 'down'?")


def test_an_unclosed_block_is_an_error():
    with pytest.raises(ValueError, match="without"):
        learner_source("### BEGIN SOLUTION\nx = 1")


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_course_lesson_is_generated_from_its_solution(path):
    expected = learner_notebook(json.loads(path.read_text()))
    committed = json.loads((ROOT / "course" / path.name).read_text())
    assert [("".join(c["source"]), c["cell_type"]) for c in committed["cells"]] == \
        [("".join(c["source"]), c["cell_type"]) for c in expected["cells"]], \
        f"course/{path.name} is out of date: run `python -m bplearn.grading lessons {path.name[:2]}`"
