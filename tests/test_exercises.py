"""The twelve exercises: graded by the judge, mutation-tested, one per lesson, no giveaways.

Every exercise is a solution notebook ``solutions/exNN_name.ipynb`` plus its judge spec
``solutions/exNN_name.judge.py`` (format: docs/exercise_format.md). Here, for each one:

* the solution scores full marks, and the learner version in exercises/ (the untouched
  stubs) scores zero with a "not done yet" message for every part;
* every wrong answer listed in the spec (``Mutant``: text edits of the solution cells) loses
  exactly the parts it names, with the feedback it names, and keeps every other part;
* lessons and exercises pair up one to one, and no graded function's solution appears as
  code in a lesson (course/ or solutions/lessons/).

Grading goes through the instructor's judge one notebook at a time (``grade_notebook``: the
notebook's code in its own process, sandboxed where bubblewrap is available; no nbgrader, no
class batch). The sandbox itself and the attacks on it are tested in the grader's tests.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from bplearn.grading.job import grade_notebook
from bplearn.grading.spec import check_notebook, load_spec
from bplearn.grading.testing import mutant_notebook, write_notebook

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
SPECS = sorted(SOLUTIONS.glob("ex*.judge.py"))
LESSON_DIRS = (ROOT / "course", ROOT / "solutions" / "lessons")
SEED = 20241204          # any seed: the judge draws every part's inputs from it


def exercise_id(path: Path) -> str:
    return path.name.split(".")[0]


@pytest.fixture(scope="module", params=SPECS, ids=exercise_id)
def exercise(request):
    return load_spec(request.param)


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def grade(exercise, notebook: dict, tmp_path: Path, seed: int = SEED) -> dict:
    """{part id: result part (id, points, status, feedback)} from the instructor's judge."""
    path = write_notebook(notebook, tmp_path / f"submission-{len(list(tmp_path.iterdir()))}.ipynb")
    result = grade_notebook(path, exercise, seed=seed)
    assert result["status"] in ("graded", "tampered"), result
    return {part["id"]: SimpleNamespace(**part) for part in result["parts"]}


def report(results: dict) -> str:
    return "\n".join(f"  {pid}: {r.status}: {r.feedback}" for pid, r in results.items())


# --- the judge's verdicts ----------------------------------------------------------------------------

def test_solution_gets_full_marks(exercise, tmp_path):
    results = grade(exercise, read(exercise.solution_notebook()), tmp_path)
    assert all(r.status == "correct" for r in results.values()), report(results)
    assert sum(r.points for r in results.values()) == exercise.points


def test_solution_gets_full_marks_on_the_visible_inputs_too(exercise, tmp_path):
    results = grade(exercise, read(exercise.solution_notebook()), tmp_path, seed=exercise.visible_seed)
    assert all(r.status == "correct" for r in results.values()), report(results)


def test_untouched_learner_version_gets_zero_and_says_not_done(exercise, tmp_path):
    learner = read(EXERCISES / f"{exercise.notebook}.ipynb")
    results = grade(exercise, learner, tmp_path)
    assert sum(r.points for r in results.values()) == 0, report(results)
    for pid, r in results.items():
        assert r.status == "not done" and "not done yet" in r.feedback, f"{pid}: {r.feedback}"


def test_every_exercise_has_at_least_three_wrong_answers_and_several_parts(exercise):
    assert len(exercise.mutants) >= 3, f"{exercise.notebook}: only {len(exercise.mutants)} mutants"
    assert len(exercise.parts) >= 2, f"{exercise.notebook}: a single graded part"
    lost = {pid for m in exercise.mutants for pid in m.loses}
    assert lost, "no mutant loses any part"


def mutant_cases():
    for spec in SPECS:
        for mutant in load_spec(spec).mutants:
            yield pytest.param(spec, mutant.name, id=f"{exercise_id(spec)}:{mutant.name}")


@pytest.mark.parametrize("spec, mutant_name", list(mutant_cases()))
def test_wrong_answer_loses_exactly_its_parts_with_the_right_feedback(spec, mutant_name, tmp_path):
    exercise = load_spec(spec)
    mutant = next(m for m in exercise.mutants if m.name == mutant_name)
    results = grade(exercise, mutant_notebook(exercise, mutant), tmp_path)
    lost = {pid for pid, r in results.items() if r.status != "correct"}
    assert lost == set(mutant.loses), f"lost {sorted(lost)}, expected {sorted(mutant.loses)}\n{report(results)}"
    for pid in lost:
        assert results[pid].points == 0 and results[pid].feedback
    for pid, text in mutant.says.items():
        assert text in results[pid].feedback, f"{pid} should say {text!r}:\n{results[pid].feedback}"


# --- structure --------------------------------------------------------------------------------------

def test_notebook_cells_and_spec_parts_agree(exercise):
    check_notebook(exercise)


def test_each_lesson_has_exactly_one_exercise_that_names_it():
    lessons = {p.name[:2] for p in (ROOT / "course").glob("[0-9][0-9]_*.ipynb")} - {"00"}
    exercises = {}
    for path in SOLUTIONS.glob("ex[0-9][0-9]_*.ipynb"):
        exercises.setdefault(path.name[2:4], []).append(path.name)
    assert set(exercises) == lessons, f"lessons {sorted(lessons)} vs exercises {sorted(exercises)}"
    assert all(len(names) == 1 for names in exercises.values()), exercises
    for number, (name,) in exercises.items():
        first = "".join(read(SOLUTIONS / name)["cells"][0]["source"])
        assert re.search(rf"[Bb]uilds on lesson {int(number):02d}\b", first), f"{name} must name lesson {number} first"
        assert load_spec(SOLUTIONS / name.replace(".ipynb", ".judge.py")).lesson == number


def test_exercises_and_visible_checks_are_exactly_what_generate_writes(tmp_path):
    """exercises/ and bplearn/feedback/visible/ are generated from solutions/: never edited by hand."""
    from bplearn.feedback.shipped import VISIBLE_DIR
    from bplearn.grading.generate import generate

    generate(SOLUTIONS, tmp_path / "exercises", visible_out=tmp_path / "visible")
    for name in sorted(p.name for p in (tmp_path / "exercises").glob("ex*.ipynb")):
        assert (EXERCISES / name).read_bytes() == (tmp_path / "exercises" / name).read_bytes(), (
            f"exercises/{name} is out of date: run `python -m bplearn.grading generate` (after executing the solution)")
    for fresh in sorted((tmp_path / "visible").glob("ex*.json")):
        assert (VISIBLE_DIR / fresh.name).read_bytes() == fresh.read_bytes(), (
            f"bplearn/feedback/visible/{fresh.name} is out of date: run `python -m bplearn.grading generate`")
    assert {p.name for p in EXERCISES.glob("ex*.ipynb")} == {p.name for p in (tmp_path / "exercises").glob("ex*.ipynb")}


def test_every_solution_notebook_has_a_judge_spec():
    notebooks = {p.stem for p in SOLUTIONS.glob("ex*.ipynb")}
    assert notebooks == {exercise_id(p) for p in SPECS}


def test_the_set_has_bug_hunts_a_gradient_checker_and_a_trained_mlp():
    texts = {p.stem: "".join("".join(c["source"]) for c in read(p)["cells"]) for p in SOLUTIONS.glob("ex*.ipynb")}
    hunts = [name for name, text in texts.items() if "bug hunt" in text.lower()]
    assert len(hunts) >= 3, hunts
    assert any("def numerical_gradient" in text for text in texts.values())
    kinds = {p.check.kind for spec in SPECS for p in load_spec(spec).parts if p.check is not None}
    assert "accuracy" in kinds


# --- no giveaways: a graded answer never appears as code in a lesson ----------------------------------

def solution_blocks(notebook: Path) -> list[str]:
    """The code between ### BEGIN SOLUTION and ### END SOLUTION in the notebook's answer cells."""
    blocks = []
    for cell in read(notebook)["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            blocks += re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", "".join(cell["source"]), flags=re.S)
    return blocks


def code_lines(source: str) -> list[str]:
    """Lines of code without comments and whitespace, so re-indenting or commenting hides nothing."""
    lines = []
    for line in source.split("\n"):
        line = re.sub(r"#.*$", "", line)
        line = re.sub(r"\s+", "", line)
        if line:
            lines.append(line)
    return lines


def lesson_code_cells(folders) -> list[tuple[str, list[str]]]:
    cells = []
    for folder in folders:
        for path in sorted(Path(folder).glob("*.ipynb")) if Path(folder).exists() else []:
            for i, cell in enumerate(read(path)["cells"]):
                if cell["cell_type"] == "code":
                    cells.append((f"{path.name} cell {i}", code_lines("".join(cell["source"]))))
    return cells


def function_bodies(source: str) -> dict:
    """{name: ast dump of the body without its docstring} for every def in the source."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    bodies = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            first = node.body[0]
            has_doc = isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant)
            body = node.body[1:] if has_doc and len(node.body) > 1 else node.body
            bodies[node.name] = ast.dump(ast.Module(body=body, type_ignores=[]))
    return bodies


def find_giveaways(lesson_folders) -> list[str]:
    """Every answer block whose code lines all appear in one lesson cell, and every answer
    function whose body (docstring aside) equals a function written out in a lesson."""
    lessons = lesson_code_cells(lesson_folders)
    lesson_functions = {}
    for folder in lesson_folders:
        for path in sorted(Path(folder).glob("*.ipynb")) if Path(folder).exists() else []:
            for cell in read(path)["cells"]:
                if cell["cell_type"] == "code":
                    for dump in function_bodies("".join(cell["source"])).values():
                        lesson_functions[dump] = path.name
    giveaways = []
    for notebook in sorted(SOLUTIONS.glob("ex*.ipynb")):
        for block in solution_blocks(notebook):
            wanted = code_lines(block)
            for where, lines in lessons:
                if wanted and all(line in lines for line in wanted):
                    giveaways.append(f"{notebook.name}: the answer {wanted} is in {where}")
        answer_cells = "\n".join("".join(c["source"]) for c in read(notebook)["cells"]
                                 if c["metadata"].get("nbgrader", {}).get("solution"))
        for name, dump in function_bodies(answer_cells).items():
            if dump in lesson_functions:
                giveaways.append(f"{notebook.name}: {name} is written out in {lesson_functions[dump]}")
    return giveaways


def test_no_graded_answer_appears_as_code_in_a_lesson():
    giveaways = find_giveaways(LESSON_DIRS)
    assert not giveaways, "\n".join(giveaways)


def test_the_giveaway_check_catches_an_answer_copied_into_a_lesson(tmp_path):
    """The check is only worth something if it fires: a lesson that holds one exercise's answer,
    re-indented and commented, and another that holds an answer function under a new name."""
    notebook = sorted(SOLUTIONS.glob("ex*.ipynb"))[0]
    block = solution_blocks(notebook)[-1]
    copied = "def anything(x):\n" + "\n".join("        " + line + "  # reworded" for line in block.split("\n"))
    answer = next(c for c in read(notebook)["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
    renamed = re.sub(r"def (\w+)\(", "def renamed_\\1(", "".join(answer["source"]), count=1)
    for name, source in (("99_copied.ipynb", copied), ("98_renamed.ipynb", renamed)):
        cell = {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}
        (tmp_path / name).write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    found = find_giveaways([tmp_path])
    assert any("99_copied.ipynb" in g for g in found), found
    assert any("98_renamed.ipynb" in g for g in found), found
