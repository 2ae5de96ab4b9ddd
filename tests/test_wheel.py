"""The course as a learner gets it from a wheel, not from this checkout.

``python -m build`` makes the sdist and then the wheel *from the sdist*, so both must
carry the notebooks. The wheel goes into a fresh venv that cannot see this checkout;
its installed dependencies come from the current environment through a .pth file, so
nothing is downloaded. There ``bplearn course DIR`` copies the notebooks out and the
first lesson runs from DIR on a kernel of that venv, and ``bplearn check`` judges the
install. About 30 s: the build is most of it.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.name for p in (ROOT / "course").glob("*.ipynb"))
EXERCISES = sorted(p.relative_to(ROOT / "exercises").as_posix() for p in (ROOT / "exercises").rglob("*.ipynb")
                   if not any(part.startswith(".") for part in p.relative_to(ROOT / "exercises").parts))
FIRST_LESSON = "00_welcome.ipynb" if "00_welcome.ipynb" in LESSONS else (LESSONS or [None])[0]
SOURCES = ["pyproject.toml", "README.md", "bplearn", "course", "exercises"]   # what the sdist is made of

RUN_NOTEBOOK = """
import sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient

path = Path(sys.argv[1])
nb = nbformat.read(path, as_version=4)
nb.cells.append(nbformat.v4.new_code_cell("import sys, bplearn\\nprint(sys.executable)\\nprint(bplearn.__file__)"))
NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
print(nb.cells[-1].outputs[0]["text"], end="")
"""


def run(cmd, env, cwd, timeout=300):
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    if not LESSONS:
        pytest.fail("course/ has no *.ipynb notebooks: nothing to package (course/00_welcome.ipynb is expected)")
    return tmp_path_factory.mktemp("wheel")


@pytest.fixture(scope="module")
def env(work):
    """No home folder, no checkout on the path, no Jupyter paths from outside."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_PATH", "MPLBACKEND")}
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        env[name] = str(work / name.lower())
    return env


@pytest.fixture(scope="module")
def dists(work, env):
    """(sdist, wheel) built by `python -m build` from a copy of the sources (the checkout stays clean)."""
    if importlib.util.find_spec("build") is None:
        pytest.fail("the dev dependency `build` is missing: pip install build")
    src = work / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.egg-info")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=ignore)
        elif (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    run([sys.executable, "-m", "build", "--outdir", work / "dist", src], env, work)
    (sdist,), (wheel,) = (work / "dist").glob("*.tar.gz"), (work / "dist").glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def venv(work, env, dists):
    """A fresh venv with the wheel installed; its dependencies are the current environment's."""
    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], env, work)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(run([python, "-c", purelib], env, work).stdout.strip())
    parents = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site / "_current_env_deps.pth").write_text("".join(f"{p}\n" for p in parents))   # after the venv's own site
    # pip comes from the current environment too; --ignore-installed: never touch the current env's bplearn.
    run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", dists[1]], env, work)
    return python


def test_sdist_and_wheel_carry_every_course_and_exercise_notebook(dists):
    sdist, wheel = dists
    with tarfile.open(sdist) as tar:
        in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    with zipfile.ZipFile(wheel) as whl:
        in_wheel = set(whl.namelist())
        entry_points = next(whl.read(n).decode() for n in in_wheel if n.endswith(".dist-info/entry_points.txt"))
    assert {f"course/{nb}" for nb in LESSONS} | {f"exercises/{nb}" for nb in EXERCISES} <= in_sdist
    assert {"pyproject.toml", "bplearn/cli.py"} <= in_sdist
    assert {f"bplearn/_course/{nb}" for nb in LESSONS} | {f"bplearn/_exercises/{nb}" for nb in EXERCISES} <= in_wheel
    assert "bplearn = bplearn.cli:main" in entry_points


def test_wheel_carries_every_bplearn_subpackage_listed_or_not(dists):
    """pyproject lists packages by hand; a subpackage missing from that list must fail here."""
    with zipfile.ZipFile(dists[1]) as whl:
        in_wheel = set(whl.namelist())
    subpackages = {str(p.relative_to(ROOT)) for p in (ROOT / "bplearn").rglob("__init__.py")}
    assert subpackages <= in_wheel, f"missing from the wheel: {sorted(subpackages - in_wheel)}"


def test_wheel_carries_the_visible_checks_with_the_learner_feedback(dists):
    shipped = {f"bplearn/feedback/visible/{p.name}" for p in (ROOT / "bplearn" / "feedback" / "visible").glob("*.json")}
    with zipfile.ZipFile(dists[1]) as whl:
        in_wheel = set(whl.namelist())
    assert shipped and shipped <= in_wheel, f"missing from the wheel: {sorted(shipped - in_wheel)}"


def test_installed_check_cells_find_their_visible_parts(work, env, venv):
    """An exercise's check cell on the wheel install: the part is found, the missing function named."""
    metas = [part["meta"] for path in sorted((ROOT / "bplearn" / "feedback" / "visible").glob("*.json"))
             for part in json.loads(path.read_text())["parts"]]
    meta = next(m for m in metas if m["probe"]["kind"] == "call")
    code = f"from bplearn.feedback.exercise import check\ncheck({meta['id']!r}, {{}})"
    out = run([venv, "-c", code], env, work).stdout
    assert f"no function called `{meta['probe']['name']}` was found" in out, out


def test_installed_bplearn_course_copies_the_notebooks_and_the_first_lesson_runs(work, env, venv):
    dest = work / "learner"
    bplearn = venv.parent / ("bplearn.exe" if os.name == "nt" else "bplearn")
    copied = run([bplearn, "course", dest], env, work)
    assert f"Copied {len(LESSONS)} lesson notebook" in copied.stdout
    assert sorted(p.name for p in dest.glob("*.ipynb")) == LESSONS
    assert sorted(p.relative_to(dest / "exercises").as_posix() for p in dest.glob("exercises/**/*.ipynb")) == EXERCISES

    executed = run([venv, "-c", RUN_NOTEBOOK, dest / FIRST_LESSON], {**env, "MPLBACKEND": "Agg"}, work)
    kernel_python, bplearn_file = executed.stdout.splitlines()[-2:]
    assert Path(kernel_python) == venv                          # the kernel ran in the fresh venv ...
    assert Path(bplearn_file).is_relative_to(venv.parent.parent)  # ... on the bplearn the wheel installed


def test_check_passes_on_the_wheel_install_when_jupyter_sees_the_widget_extension(work, env, venv):
    # In a normal venv the extension sits in the venv's share/jupyter; this one borrows the
    # current environment's, so point Jupyter at it the documented way (JUPYTER_PATH).
    shared = Path(sysconfig.get_paths()["data"], "share", "jupyter")
    result = subprocess.run([venv, "-m", "bplearn.cli", "check"], cwd=work, env={**env, "JUPYTER_PATH": str(shared)},
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(LESSONS)} lesson notebook" in result.stdout and "_course" in result.stdout


def test_check_fails_and_says_how_to_fix_a_missing_widget_extension(work, env, venv):
    result = subprocess.run([venv, "-m", "bplearn.cli", "check"], cwd=work, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 1, result.stdout + result.stderr
    missing = "FAIL  JupyterLab widget extension @jupyter-widgets/jupyterlab-manager not found; searched: "
    assert missing in result.stdout
    assert "restart JupyterLab" in result.stdout and "jupyter labextension list" in result.stdout
    assert "1 problem found" in result.stdout
