"""solutions/lessons/ -> course/: stubs replace answers; the committed course/ is in sync."""
import json
import re
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


LESSONS = sorted((ROOT / "course").glob("[0-9][0-9]_*.ipynb"))


def _tags(path):
    return [t for c in json.loads(path.read_text())["cells"] for t in c.get("metadata", {}).get("tags", [])]


def test_every_course_lesson_has_a_solution_version():
    assert [p.name for p in LESSONS] == [p.name for p in SOLUTIONS]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_the_learner_does_the_work_and_no_cell_raises_on_purpose(path):
    tags = _tags(path)
    assert "raises-exception" not in tags, f"{path.name}: show errors with try/except instead"
    if path.name[:2] != "00":
        assert tags.count("your-turn") >= 2, f"{path.name} has {tags.count('your-turn')} your-turn cells"
        assert tags.count("predict") >= 1, f"{path.name} has no predict cell"


@pytest.mark.parametrize("path", LESSONS[1:], ids=lambda p: p.name)
def test_every_lesson_links_its_exercise_and_the_exercise_exists(path):
    text = path.read_text()
    links = re.findall(r"\]\(\.\./exercises/(ex\d\d_[a-z0-9_]+\.ipynb)\)", text)
    assert links and links[0].startswith(f"ex{path.name[:2]}_"), f"{path.name} does not link exercise {path.name[:2]}"
    assert (ROOT / "exercises" / links[0]).exists()


CHECK = re.compile(r"lesson\d\d\.(\w+)\.check\(")


def _check_outputs(path) -> dict:
    """{task name: printed text} of every your-turn check cell (`name = lessonNN.name.check(name)`)."""
    found = {}
    for cell in json.loads(path.read_text())["cells"]:
        match = CHECK.search("".join(cell["source"])) if cell["cell_type"] == "code" else None
        if match:
            found[match.group(1)] = "".join("".join(o.get("text", "")) for o in cell["outputs"])
    return found


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_check_says_correct_in_the_solution_and_not_done_yet_in_the_learner_version(path):
    solved, learner = _check_outputs(path), _check_outputs(ROOT / "course" / path.name)
    assert solved and set(solved) == set(learner)
    tags = _tags(ROOT / "course" / path.name)
    assert len(solved) == tags.count("your-turn"), "every your-turn cell is followed by its check"
    for name in solved:
        assert solved[name].startswith(f"✔ {name} is correct"), f"solution {path.name}, {name}: {solved[name]!r}"
        assert f"{name}: not done yet" in learner[name], f"course/{path.name}, {name}: {learner[name]!r}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_no_committed_lesson_shows_an_error(path):
    for nb in (path, ROOT / "course" / path.name):
        cells = json.loads(nb.read_text())["cells"]
        assert not [o for c in cells if c["cell_type"] == "code" for o in c["outputs"] if o["output_type"] == "error"]
