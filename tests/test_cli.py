"""The ``bplearn`` command: course, check, grade, and the help texts.

Subprocess runs use ``python -m bplearn.cli`` with this checkout on PYTHONPATH, so they
work whether or not bplearn is pip-installed. The installed ``bplearn`` script from a
real wheel is exercised in test_wheel.py.

Help texts are compared with tests/snapshots/*.txt exactly. After changing the help on
purpose, rewrite them with:  BPLEARN_UPDATE_SNAPSHOTS=1 pytest tests/test_cli.py
"""
import importlib.machinery
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from bplearn import cli

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def clean_env(tmp_path, **extra):
    """An environment that reads and writes nothing in the home folder, with this checkout importable."""
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "JUPYTER_PATH", "PYTHONPATH")}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        env[name] = str(tmp_path / name.lower())
    env.update({"PYTHONPATH": str(ROOT), "COLUMNS": "80", "NO_COLOR": "1", **extra})
    return env


def run_cli(tmp_path, *args, **extra_env):
    return subprocess.run([sys.executable, "-m", "bplearn.cli", *args], cwd=tmp_path,
                          env=clean_env(tmp_path, **extra_env), capture_output=True, text=True, timeout=180)


def write_notebook(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)]), path)
    return path


@pytest.fixture
def fake_install(tmp_path, monkeypatch):
    """A lessons folder and an exercises folder (nested, plus a checkpoint to skip) as the install's notebooks."""
    lessons, exercises = tmp_path / "src" / "course", tmp_path / "src" / "exercises"
    write_notebook(lessons / "00_welcome.ipynb", "welcome")
    write_notebook(lessons / "01_chain_rule.ipynb", "chain rule")
    write_notebook(exercises / "ex01_chain_rule.ipynb", "exercise 1")
    write_notebook(exercises / "ps2" / "ex02_value.ipynb", "exercise 2")
    write_notebook(exercises / ".ipynb_checkpoints" / "ex01_chain_rule-checkpoint.ipynb", "checkpoint")
    monkeypatch.setattr(cli, "notebook_dirs", lambda: (lessons, exercises))
    return lessons, exercises


EXPECTED_COPIES = ["00_welcome.ipynb", "01_chain_rule.ipynb", "exercises/ex01_chain_rule.ipynb",
                   "exercises/ps2/ex02_value.ipynb"]


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# ----------------------------------------------------------------------------- help

@pytest.mark.parametrize("args, snapshot", [
    (["--help"], "cli_help.txt"),
    (["course", "--help"], "cli_course_help.txt"),
    (["check", "--help"], "cli_check_help.txt"),
])
def test_help_text_matches_snapshot(tmp_path, args, snapshot):
    result = run_cli(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    path = SNAPSHOTS / snapshot
    if os.environ.get("BPLEARN_UPDATE_SNAPSHOTS") == "1":
        path.write_text(result.stdout)
    assert result.stdout == path.read_text(), f"help changed; if on purpose, see this file's docstring to update {path}"


def test_no_command_prints_usage_and_exits_2(tmp_path):
    result = run_cli(tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: bplearn") and "course" in result.stderr


def test_version_flag_prints_the_package_version(tmp_path):
    result = run_cli(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"bplearn {cli.__version__}"


# ----------------------------------------------------------------------------- course

def test_course_copies_lessons_to_the_top_and_exercises_below(tmp_path, fake_install, capsys):
    lessons, exercises = fake_install
    dest = tmp_path / "my course"
    assert cli.main(["course", str(dest)]) == 0
    assert files_under(dest) == EXPECTED_COPIES
    assert (dest / "exercises/ps2/ex02_value.ipynb").read_bytes() == (exercises / "ps2/ex02_value.ipynb").read_bytes()
    out = capsys.readouterr().out
    assert "Copied 2 lesson notebooks and 2 exercise notebooks" in out
    assert "jupyter lab '" + str(dest / "00_welcome.ipynb") + "'" in out      # quoted: the path has a space


def test_course_refuses_to_overwrite_and_copies_nothing(tmp_path, fake_install, capsys):
    dest = tmp_path / "dest"
    write_notebook(dest / "01_chain_rule.ipynb", "my own edits")
    before = (dest / "01_chain_rule.ipynb").read_bytes()
    assert cli.main(["course", str(dest)]) == 1
    err = capsys.readouterr().err
    assert re.search(r"1 of the notebooks already exist in .*dest; nothing was copied:\n  01_chain_rule.ipynb\n", err)
    assert "--force" in err
    assert files_under(dest) == ["01_chain_rule.ipynb"]
    assert (dest / "01_chain_rule.ipynb").read_bytes() == before


def test_course_force_overwrites_existing_notebooks(tmp_path, fake_install):
    lessons, _ = fake_install
    dest = tmp_path / "dest"
    write_notebook(dest / "01_chain_rule.ipynb", "my own edits")
    write_notebook(dest / "notes.ipynb", "not part of the course")
    assert cli.main(["course", str(dest), "--force"]) == 0
    assert (dest / "01_chain_rule.ipynb").read_bytes() == (lessons / "01_chain_rule.ipynb").read_bytes()
    assert files_under(dest) == sorted(EXPECTED_COPIES + ["notes.ipynb"])


def test_course_without_lesson_notebooks_says_the_install_is_incomplete(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "notebook_dirs", lambda: (tmp_path / "empty", tmp_path / "none"))
    assert cli.main(["course", str(tmp_path / "dest")]) == 1
    assert "no lesson notebooks found in" in capsys.readouterr().err
    assert not (tmp_path / "dest").exists()


def test_course_into_a_file_is_refused(tmp_path, fake_install, capsys):
    target = tmp_path / "a_file"
    target.write_text("x")
    assert cli.main(["course", str(target)]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err


def test_course_notebooks_of_this_checkout_are_course_and_exercises():
    # A git checkout and `pip install -e .` both read the folders beside bplearn/.
    assert cli.notebook_dirs() == (ROOT / "course", ROOT / "exercises")


# ----------------------------------------------------------------------------- check

def test_required_versions_match_pyproject_dependencies():
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = dict(re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", d).groups() for d in deps)
    assert cli.REQUIREMENTS == declared


def test_check_passes_in_this_environment(tmp_path):
    result = run_cli(tmp_path, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    for expected in ("ok    numpy ", "ok    JupyterLab widget extension 5.", "ok    the kernel imports bplearn",
                     "ok    the kernel draws matplotlib plots inline", "checks passed"):
        assert expected in result.stdout


def test_check_fails_with_fixes_for_a_broken_package_an_old_one_and_plots_that_cannot_show(tmp_path):
    stubs = tmp_path / "stubs"
    (stubs / "ipywidgets").mkdir(parents=True)
    (stubs / "ipywidgets" / "__init__.py").write_text("raise ImportError('stub standing in for a broken install')\n")
    (stubs / "numpy-1.0.dist-info").mkdir()                 # metadata that reports an old numpy
    (stubs / "numpy-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: numpy\nVersion: 1.0\n")
    result = run_cli(tmp_path, "check", PYTHONPATH=os.pathsep.join([str(stubs), str(ROOT)]),
                     MPLBACKEND="agg")                       # overrides the notebooks' inline backend
    assert result.returncode == 1
    out = result.stdout
    assert "FAIL  numpy 1.0 is older than the 1.24 the course needs" in out
    assert re.search(r"fix: .* -m pip install --upgrade 'numpy>=1\.24'", out)
    assert "FAIL  ipywidgets " in out and "`import ipywidgets` fails: ImportError: stub standing in" in out
    assert re.search(r"fix: .* -m pip install --force-reinstall 'ipywidgets>=8\.0'", out)
    assert "FAIL  a matplotlib plot in the kernel shows nothing (no image came back; backend: agg)" in out
    assert "fix: unset MPLBACKEND" in out
    assert "3 problems found: fix them, then run `bplearn check` again." in out


def test_check_reports_a_missing_kernel_with_the_install_command(tmp_path):
    result = run_cli(tmp_path, "check", "--kernel", "no-such-kernel")
    assert result.returncode == 1
    assert "FAIL  no Jupyter kernel named 'no-such-kernel'" in result.stdout
    assert "-m ipykernel install --user --name no-such-kernel" in result.stdout


# ----------------------------------------------------------------------------- grade

def test_grade_forwards_its_arguments_and_exit_status_to_the_driver(monkeypatch):
    calls = []
    driver = types.ModuleType("bplearn.grading.__main__")
    driver.__spec__ = importlib.machinery.ModuleSpec(driver.__name__, None)
    driver.main = lambda argv: calls.append(argv) or 3
    monkeypatch.setitem(sys.modules, driver.__name__, driver)
    assert cli.main(["grade", "autograde", "subs", "--assignment", "ps1", "--help"]) == 3
    assert calls == [["autograde", "subs", "--assignment", "ps1", "--help"]]


def test_grade_without_a_driver_explains_and_exits_2(capsys):
    assert cli.run_grade(["--help"], driver_name="bplearn.grading.no_such_driver") == 2
    assert "the grading driver (bplearn.grading.no_such_driver) is not part of this install" in capsys.readouterr().err


def test_grade_help_comes_from_the_real_driver_when_it_is_installed(tmp_path):
    result = run_cli(tmp_path, "grade", "--help")
    if (ROOT / "bplearn" / "grading" / "__main__.py").exists():
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("usage:")
    else:
        assert result.returncode == 2
        assert "bplearn grade: the grading driver" in result.stderr


# ----------------------------------------------------------------------------- submit, progress

TOY = ROOT / "tests" / "grading_fixtures" / "ex00_toy.ipynb"


@pytest.fixture
def toy_install(tmp_path, monkeypatch):
    """The toy exercise as if shipped: its visible checks and its released notebook."""
    from bplearn.grading.generate import write_visible
    from bplearn.grading.spec import load_spec

    write_visible(load_spec(TOY.with_name("ex00_toy.judge.py")), tmp_path / "visible")
    monkeypatch.setenv("BPLEARN_VISIBLE_PATH", str(tmp_path / "visible"))
    monkeypatch.setattr(cli, "notebook_dirs", lambda: (tmp_path / "lessons", TOY.parent))
    return tmp_path


def test_submit_grades_every_visible_part_and_names_the_hidden_ones(toy_install, capsys):
    work = toy_install / "work"
    work.mkdir()
    nb = json.loads(TOY.read_text())
    for c in nb["cells"]:
        c["source"] = "".join(c["source"]).replace("slope = 12.0", "slope = 6.0")
    (work / "ex00_toy.ipynb").write_text(json.dumps(nb))
    assert cli.main(["submit", str(work / "ex00_toy.ipynb")]) == 0
    out = capsys.readouterr().out
    assert "✘ ex00-slope" in out and "half the expected value" in out and "Score: 5 / 6" in out
    assert "Hidden parts (ex00-dw-hidden, 1 point(s))" in out and "ex00-dw-hidden   " not in out
    assert cli.main(["progress", str(work)]) == 0
    progress = capsys.readouterr().out
    assert "ex00_toy" in progress and "5/6 visible points" in progress


def test_submit_explains_a_file_that_is_not_an_exercise(tmp_path, capsys):
    other = tmp_path / "notes.ipynb"
    other.write_text("{}")
    assert cli.main(["submit", str(other)]) == 2
    assert "not named like an exercise" in capsys.readouterr().err
    assert cli.main(["submit", str(tmp_path / "missing.ipynb")]) == 2


def test_course_copy_keeps_each_lessons_link_to_its_exercise_working(tmp_path):
    dest = tmp_path / "mine"
    assert cli.main(["course", str(dest)]) == 0
    text = (dest / "04_mlp_backprop.ipynb").read_text()
    targets = re.findall(r"\]\((exercises/ex04_[a-z_]+\.ipynb)\)", text)
    assert targets and (dest / targets[0]).exists()
    assert "](../exercises/" not in text
