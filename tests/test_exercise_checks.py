"""The exercises' check cells (bplearn.feedback.exercise) and the direction of dependency.

The learner's side of the exercises lives in bplearn.feedback; the instructor's grading
package imports it, never the other way round, so a learner's kernel needs nothing of
bplearn.grading. The check cells are run here in-process on the toy exercise.
"""
import ast
import linecache
from pathlib import Path

import pytest

from bplearn.feedback import exercise
from bplearn.feedback.probe import run_probe
from bplearn.grading.generate import write_visible
from bplearn.grading.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
FEEDBACK = ROOT / "bplearn" / "feedback"
TOY_SPEC = ROOT / "tests" / "grading_fixtures" / "ex00_toy.judge.py"


# --- feedback never imports grading --------------------------------------------------------------

def imported_modules(source: str, package: str) -> set[str]:
    """Every module an import statement in ``source`` names, relative imports resolved.

    package: the dotted package the file is in, e.g. "bplearn.feedback".
    """
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def grading_imports(path: Path) -> list[str]:
    package = ".".join(path.relative_to(ROOT).parent.parts)
    names = imported_modules(path.read_text(encoding="utf-8"), package)
    return sorted(n for n in names if n == "bplearn.grading" or n.startswith("bplearn.grading."))


def test_no_feedback_module_imports_grading():
    offenders = {str(p.relative_to(ROOT)): grading_imports(p) for p in sorted(FEEDBACK.rglob("*.py"))}
    offenders = {path: names for path, names in offenders.items() if names}
    assert not offenders, f"bplearn.feedback must not import bplearn.grading (grading may import feedback): {offenders}"


@pytest.mark.parametrize("line", ["import bplearn.grading.judge", "from bplearn.grading import judge",
                                  "from ..grading.judge import Case", "from .. import grading",
                                  "def f():\n    from ..grading import spec"])
def test_the_import_check_sees_every_way_of_writing_the_import(line):
    names = imported_modules(line, "bplearn.feedback")
    assert any(n.startswith("bplearn.grading") for n in names), names


def test_the_import_check_resolves_relative_imports_within_feedback():
    assert imported_modules("from .parts import Case", "bplearn.feedback") == {
        "bplearn.feedback.parts", "bplearn.feedback.parts.Case"}


# --- the check cells, in a learner's kernel -----------------------------------------------------------

@pytest.fixture
def toy_shipped(tmp_path, monkeypatch):
    """The toy exercise's visible checks as if shipped, and no part checked yet in this 'kernel'."""
    write_visible(load_spec(TOY_SPEC), tmp_path)
    monkeypatch.setenv("BPLEARN_VISIBLE_PATH", str(tmp_path))
    monkeypatch.setattr(exercise, "_RESULTS", {})


def affine_backward(dout, x, w):
    return dout * w, (dout * x).sum(axis=0)


def affine_backward_averaged(dout, x, w):
    return dout * w, (dout * x).mean(axis=0)


def test_check_prints_a_tick_or_the_named_mistake_and_never_raises(toy_shipped, capsys):
    exercise.check("ex00-dx", {"affine_backward": affine_backward})
    exercise.check("ex00-dw", {"affine_backward": affine_backward_averaged})
    exercise.check("ex00-slope", {})
    exercise.check("ex00-nothing", {})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "✔ dx is correct.  [1/1]"
    assert out[1].startswith("✘ (wrong) dw is ") and "Likely mistake: averaged over the batch" in "\n".join(out)
    assert "✘ (missing) slope: no variable called `slope` was found." in "\n".join(out)
    assert out[-1].startswith("(cannot check ex00-nothing: no visible part 'ex00-nothing'")


def test_check_reads_the_calling_notebooks_globals(toy_shipped, capsys):
    global slope
    slope = 12.0
    try:
        exercise.check("ex00-slope")
    finally:
        del slope
    assert capsys.readouterr().out == "✔ slope is correct.  [1/1]\n"


def test_summary_lists_every_visible_part_and_the_hidden_points(toy_shipped, capsys):
    exercise.summary()
    assert capsys.readouterr().out == "No part checked yet: run the check cells above (Run All runs them all).\n"
    exercise.check("ex00-dx", {"affine_backward": affine_backward})
    exercise.check("ex00-dw", {"affine_backward": lambda dout, x, w: exercise_stub()})
    capsys.readouterr()
    exercise.summary()
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["  ✔ ex00-dx                  1/1  correct", "  · ex00-dw                  0/2  not done"]
    assert "  · ex00-slope               not checked yet" in lines
    assert "Visible parts: 1 of 6 points. 1 more points are hidden parts that only your instructor's judge grades." in lines
    assert lines[-1].startswith("For a score from the judge")


def exercise_stub():
    raise NotImplementedError()


# --- which lines of a traceback are the learner's -------------------------------------------------

def crash_in(filename: str):
    """A function whose body raises, compiled as if it came from ``filename``, its source
    registered with linecache as Jupyter and the sandbox runner register a cell's."""
    source = "def answer(x):\n    return x[5]\n"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace["answer"]


@pytest.mark.parametrize("filename", ["/tmp/ipykernel_4242/3141.py", "<cell 3>"])
def test_an_error_names_the_learners_line_in_jupyter_and_in_the_sandbox(filename):
    status, detail = run_probe({"kind": "call", "name": "answer", "source": ""},
                               {"answer": crash_in(filename)}, {"x": [1, 2]})
    assert (status, detail["type"]) == ("error", "IndexError")
    assert detail["where"] == ["line 2 of your code: return x[5]"]


def test_code_the_judge_compiles_is_not_called_the_learners():
    status, detail = run_probe({"kind": "call", "name": "answer", "source": ""},
                               {"answer": crash_in("<judge probe>")}, {"x": [1, 2]})
    assert status == "error" and detail["where"] == []
