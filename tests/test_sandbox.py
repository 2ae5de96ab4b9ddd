"""The sandbox itself: present where it must be, refusing what it cannot hide, and the
fallback that says what it lost. The attacks it stops are in test_attacks.py."""
import os
import sys
from pathlib import Path

import pytest

from bplearn.grading import sandbox
from bplearn.grading.job import grade_notebook
from bplearn.grading.spec import load_spec

FIXTURES = Path(__file__).resolve().parent / "grading_fixtures"


def test_bubblewrap_is_installed_where_the_sandbox_is_required():
    if not sandbox.sandbox_required():
        pytest.skip("set BPLEARN_REQUIRE_SANDBOX=1 (CI does) to require bubblewrap")
    assert sandbox.bwrap_path(), "bubblewrap (bwrap) is required here but missing: apt-get install bubblewrap"


def test_required_sandbox_without_bubblewrap_is_an_error_not_a_silent_fallback(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    with pytest.raises(sandbox.SandboxError, match="apt-get install bubblewrap"):
        sandbox.run(tmp_path, sandbox.Limits(), mode="require")


def test_without_a_sandbox_the_code_still_runs_in_another_process_and_the_result_says_so(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    toy = load_spec(FIXTURES / "ex00_toy.judge.py")
    result = grade_notebook(toy.solution_notebook(), toy, seed=2, mode="auto")
    assert result["score"] == result["max_score"] == 7
    assert result["sandbox"]["isolation"] == "none"


def test_a_python_installation_holding_the_secrets_is_refused(tmp_path):
    if not sandbox.bwrap_path():
        pytest.skip("bubblewrap not installed")
    with pytest.raises(sandbox.SandboxError, match="must not see"):
        sandbox.bwrap_command(tmp_path, sandbox.Limits(), secrets=[Path(sys.prefix) / "lib"])


def test_the_sandbox_mounts_only_the_python_installation_and_bplearn(tmp_path):
    if not sandbox.bwrap_path():
        pytest.skip("bubblewrap not installed")
    argv, user = sandbox.bwrap_command(tmp_path, sandbox.Limits())
    mounted = {argv[i + 1] for i, a in enumerate(argv) if a in ("--ro-bind", "--bind")}
    root = str(Path(__file__).resolve().parents[1])
    assert root not in mounted and not any(m.startswith(str(Path(root, "solutions"))) for m in mounted)
    assert "--unshare-net" in argv and "--unshare-pid" in argv and "--die-with-parent" in argv
    if os.geteuid() == 0:
        assert "setpriv" in argv and "uid 0" not in user


def test_the_runner_uses_the_bplearn_that_grades_even_when_another_is_installed(tmp_path):
    # A grader that imports bplearn from one place (a copy, a second checkout) while its Python
    # installs bplearn from another: the sandbox shows the runner only the grader's copy, so
    # the runner must import that one, or every submission would crash with "No module named bplearn".
    if not sandbox.bwrap_path():
        pytest.skip("bubblewrap not installed")
    import shutil
    import subprocess

    import bplearn

    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(Path(bplearn.__file__).resolve().parent, elsewhere / "bplearn",
                    ignore=shutil.ignore_patterns("__pycache__"))
    script = (f"import sys; sys.path.insert(0, {str(elsewhere)!r})\n"
              "import bplearn\n"
              f"assert bplearn.__file__.startswith({str(elsewhere)!r}), bplearn.__file__\n"
              "from bplearn.grading.job import grade_notebook\n"
              "from bplearn.grading.spec import load_spec\n"
              f"toy = load_spec({str(FIXTURES / 'ex00_toy.judge.py')!r})\n"
              "result = grade_notebook(toy.solution_notebook(), toy, seed=2, mode='require')\n"
              "print(result['status'], result['score'])\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["graded", "7.0"], done.stdout + done.stderr
