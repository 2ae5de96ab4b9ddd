"""The ``bplearn`` command: get the notebooks, check an install, grade a class.

    bplearn course DIR   copy the lesson and exercise notebooks into DIR
    bplearn check        is this Python ready for the course? says what to fix if not
    bplearn grade ...    the grading driver (the same as ``python -m bplearn.grading ...``)
    bplearn submit NB    grade your own exercise notebook with the judge (visible parts)
    bplearn progress     which lessons and exercises in a course folder are done

``main(argv)`` returns the exit status: 0 when all went well, 1 when something needs
fixing (the message says what), 2 for a command line that does not parse.
Only the standard library is imported up front, so ``bplearn --help`` is instant.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import json
import re
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import __version__

# The minimum versions in pyproject.toml's [project] dependencies (a test keeps them equal).
REQUIREMENTS = {"numpy": "1.24", "matplotlib": "3.7", "ipywidgets": "8.0", "jupyterlab": "4.0", "tqdm": "4.60"}
MIN_PYTHON = (3, 10)
WIDGET_EXTENSION = ("@jupyter-widgets", "jupyterlab-manager")   # JupyterLab's half of ipywidgets


# ----------------------------------------------------------------------------- course

def notebook_dirs() -> tuple[Path, Path]:
    """Where this install keeps its (lesson, exercise) notebooks.

    A wheel carries them inside the package as bplearn/_course and bplearn/_exercises
    (setup.py maps course/ and exercises/ there); a git checkout, and an editable
    install of one (pip install -e .), has them in course/ and exercises/ beside bplearn/.
    """
    package = Path(__file__).resolve().parent
    if (package / "_course").is_dir():
        return package / "_course", package / "_exercises"
    return package.parent / "course", package.parent / "exercises"


def course_files(lessons: Path, exercises: Path) -> list[tuple[Path, Path]]:
    """(source, destination relative to the target folder) for every notebook to copy.

    Lessons go to the top of the folder, exercises keep their layout under exercises/.
    Hidden folders such as .ipynb_checkpoints are skipped.
    """
    files = [(nb, Path(nb.name)) for nb in sorted(lessons.glob("*.ipynb"))]
    if exercises.is_dir():
        for nb in sorted(exercises.rglob("*.ipynb")):
            relative = nb.relative_to(exercises)
            if not any(part.startswith(".") for part in relative.parts):
                files.append((nb, Path("exercises") / relative))
    return files


def _lessons(files: list[tuple[Path, Path]]) -> list[Path]:
    """The lesson notebooks among ``course_files``: those copied to the top of the folder."""
    return [rel for _, rel in files if rel.parent == Path(".")]


def _copy_notebook(source: Path, target: Path, is_lesson: bool) -> None:
    """Copy the contents (the copies are yours to edit). A lesson's links to its exercise point
    at ../exercises/ in the repository, and at exercises/ beside it in a copied course."""
    if not is_lesson:
        shutil.copyfile(source, target)
        return
    text = source.read_text(encoding="utf-8").replace("](../exercises/", "](exercises/")
    target.write_text(text, encoding="utf-8")


def copy_course(dest: Path, force: bool = False) -> int:
    """Copy the notebooks into ``dest``; refuse (and copy nothing) if that would overwrite."""
    lessons, exercises = notebook_dirs()
    files = course_files(lessons, exercises)
    lesson_names = _lessons(files)
    if not lesson_names:
        _error(f"no lesson notebooks found in {lessons}. This bplearn was installed without its "
               "notebooks: reinstall it from a wheel or a git checkout (see README.md).")
        return 1
    if dest.exists() and not dest.is_dir():
        _error(f"{dest} is a file, not a folder: choose another name.")
        return 1
    clashes = [rel for _, rel in files if (dest / rel).exists()]
    if clashes and not force:
        shown = "".join(f"\n  {rel}" for rel in clashes[:10])
        more = f"\n  ... and {len(clashes) - 10} more" if len(clashes) > 10 else ""
        _error(f"{len(clashes)} of the notebooks already exist in {dest}; nothing was copied:{shown}{more}\n"
               "Choose a new folder, or add --force to overwrite them (changes you made to them are lost).")
        return 1
    try:
        for source, rel in files:
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            _copy_notebook(source, dest / rel, is_lesson=rel.parent == Path("."))
    except OSError as exc:
        _error(f"could not write to {dest}: {exc}. Choose a folder you can write to.")
        return 1
    n_lessons = len(lesson_names)
    print(f"Copied {_count(n_lessons, 'lesson')} and {_count(len(files) - n_lessons, 'exercise')} to {dest}.")
    print(f"Start with:  jupyter lab {shlex.quote(str(dest / min(lesson_names)))}")
    return 0


# ----------------------------------------------------------------------------- check

@dataclass
class Finding:
    """The outcome of one check: what was found and, if it is a problem, how to fix it."""

    ok: bool
    what: str
    fix: str = ""


def _pip(*args: str) -> str:
    """A pip command for *this* Python (plain ``pip`` may belong to another one)."""
    return " ".join([shlex.quote(sys.executable), "-m", "pip", *args])


def _kernel_install(kernel_name: str) -> str:
    """The command that makes this Python the Jupyter kernel called ``kernel_name``."""
    name = "" if kernel_name == "python3" else f" --name {shlex.quote(kernel_name)}"
    return f"{shlex.quote(sys.executable)} -m ipykernel install --user{name}"


def _version_tuple(text: str) -> tuple[int, ...]:
    """"8.1.9" -> (8, 1, 9); enough to compare against a minimum such as "8.0"."""
    return tuple(int(n) for n in re.findall(r"\d+", text.split("+")[0])[:3])


def check_python() -> Finding:
    """Python itself: at least MIN_PYTHON."""
    found = f"Python {sys.version.split()[0]} ({sys.executable})"
    if sys.version_info >= MIN_PYTHON:
        return Finding(True, found)
    need = ".".join(map(str, MIN_PYTHON))
    return Finding(False, f"{found} is older than the {need} the course needs",
                   f"install Python {need} or newer, then make a fresh environment for the course")


def check_package(name: str, minimum: str) -> Finding:
    """Installed, recent enough, and importable."""
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return Finding(False, f"{name} is not installed", _pip("install", shlex.quote(f"{name}>={minimum}")))
    if _version_tuple(version) < _version_tuple(minimum):
        return Finding(False, f"{name} {version} is older than the {minimum} the course needs",
                       _pip("install", "--upgrade", shlex.quote(f"{name}>={minimum}")))
    try:
        if name == "jupyterlab":                     # importing it takes seconds; finding it is enough
            if importlib.util.find_spec(name) is None:
                raise ModuleNotFoundError(f"No module named {name!r}")
        else:
            importlib.import_module(name)
    except Exception as exc:                         # any failure to import is the finding
        return Finding(False, f"{name} {version} is installed but `import {name}` fails: "
                       f"{type(exc).__name__}: {exc}",
                       _pip("install", "--force-reinstall", shlex.quote(f"{name}>={minimum}")))
    found = f"{name} {version}"
    if name == "jupyterlab" and shutil.which("jupyter-lab") is None:
        found += " (the jupyter-lab command is not on PATH: activate this environment or use `python -m jupyterlab`)"
    return Finding(True, found)


def check_widget_extension() -> Finding:
    """JupyterLab needs its widget extension, or widgets show as plain text."""
    fix = ("install jupyterlab_widgets (it comes with ipywidgets 8) into the environment that runs "
           "JupyterLab, restart JupyterLab, and check that `jupyter labextension list` shows "
           f"{'/'.join(WIDGET_EXTENSION)}: " + _pip("install", "--upgrade", "'jupyterlab_widgets>=3'"))
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:
        return Finding(False, "jupyter_core is not installed, so JupyterLab is not either",
                       _pip("install", "'jupyterlab>=4.0'"))
    searched = jupyter_path("labextensions")
    for base in searched:
        package_json = Path(base, *WIDGET_EXTENSION, "package.json")
        if package_json.is_file():
            version = json.loads(package_json.read_text(encoding="utf-8")).get("version", "0")
            if _version_tuple(version) < (5,):       # 3.x and 4.x pair with ipywidgets 7
                return Finding(False, f"JupyterLab widget extension {version} in {base} is for ipywidgets 7", fix)
            return Finding(True, f"JupyterLab widget extension {version} ({package_json.parent})")
    return Finding(False, f"JupyterLab widget extension {'/'.join(WIDGET_EXTENSION)} not found; "
                   f"searched: {', '.join(searched)}", fix)


def check_notebooks() -> Finding:
    """The lesson notebooks ship with this install (``bplearn course`` copies them)."""
    lessons, exercises = notebook_dirs()
    files = course_files(lessons, exercises)
    n_lessons = len(_lessons(files))
    if n_lessons == 0:
        return Finding(False, f"no lesson notebooks in {lessons}",
                       "reinstall bplearn from a wheel or a git checkout: this install has no notebooks")
    return Finding(True, f"{_count(n_lessons, 'lesson')} in {lessons}, {_count(len(files) - n_lessons, 'exercise')}")


def _run_in_kernel(client, code: str) -> tuple[dict, list[dict]]:
    """Execute ``code``; return the reply content and the output messages it produced."""
    outputs: list[dict] = []
    reply = client.execute_interactive(code, timeout=60, output_hook=outputs.append, allow_stdin=False)
    return reply["content"], outputs


def _text(outputs: list[dict]) -> str:
    parts = [m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream"]
    parts += [m["content"]["data"].get("text/plain", "") for m in outputs if m["msg_type"] == "execute_result"]
    return "".join(parts).strip()


def _failure(reply: dict) -> str:
    return f"{reply.get('ename', 'error')}: {reply.get('evalue', '')}"


def probe_kernel(client, kernel_name: str = "python3") -> list[Finding]:
    """What a notebook needs from its kernel: arithmetic, bplearn, inline plots."""
    reply, outputs = _run_in_kernel(client, "1 + 1")
    if reply["status"] != "ok" or _text(outputs) != "2":
        return [Finding(False, f"the kernel could not compute 1 + 1 (got {_text(outputs)!r})",
                        "restart JupyterLab; if it persists reinstall ipykernel: "
                        + _pip("install", "--force-reinstall", "ipykernel"))]
    _, outputs = _run_in_kernel(client, "import sys; print(sys.executable)")
    python = _text(outputs)
    findings = [Finding(True, f"kernel starts and computes 1 + 1 = 2 ({python})")]
    reply, outputs = _run_in_kernel(client, "import bplearn; print(bplearn.__version__)")
    if reply["status"] == "ok":
        findings.append(Finding(True, f"the kernel imports bplearn {_text(outputs)}"))
    else:
        findings.append(Finding(False, f"the kernel's Python ({python}) cannot import bplearn: {_failure(reply)}",
                                "make this environment the notebooks' kernel: " + _kernel_install(kernel_name)))
    reply, outputs = _run_in_kernel(client, "import matplotlib.pyplot as plt\nplt.plot([0, 1], [0, 1])\nplt.show()")
    if any("image/png" in m["content"].get("data", {}) for m in outputs):
        findings.append(Finding(True, "the kernel draws matplotlib plots inline"))
    else:
        _, backend = _run_in_kernel(client, "import matplotlib; print(matplotlib.get_backend())")
        problem = _failure(reply) if reply["status"] != "ok" else "no image came back"
        findings.append(Finding(False, f"a matplotlib plot in the kernel shows nothing ({problem}; "
                                f"backend: {_text(backend)})",
                                "unset MPLBACKEND (notebooks need matplotlib's inline backend) or run "
                                "`%matplotlib inline` in the notebook; then restart the kernel"))
    return findings


def check_kernel(kernel_name: str) -> list[Finding]:
    """Start the kernel the notebooks ask for and make it do what a lesson does."""
    try:
        from jupyter_client.kernelspec import NoSuchKernel
        from jupyter_client.manager import start_new_kernel
    except ImportError:
        return [Finding(False, "jupyter_client is not installed, so no kernel can start",
                        _pip("install", "ipykernel", "jupyter_client"))]
    # A temporary working folder: bplearn must import from the install, not from the current folder.
    # The kernel's own log goes to a file there: shown only if the kernel fails to start.
    with tempfile.TemporaryDirectory() as cwd, open(Path(cwd, "kernel.log"), "w+") as log:
        try:
            manager, client = start_new_kernel(kernel_name=kernel_name, startup_timeout=60, cwd=cwd, stderr=log)
        except NoSuchKernel:
            return [Finding(False, f"no Jupyter kernel named {kernel_name!r}", _kernel_install(kernel_name))]
        except Exception as exc:                     # a kernel that dies or times out while starting
            log.seek(0)
            tail = "".join(log.readlines()[-5:]).strip()
            return [Finding(False, f"the kernel {kernel_name!r} did not start: {type(exc).__name__}: {exc}"
                            + (f"\n        kernel said: {tail}" if tail else ""),
                            _kernel_install(kernel_name) + ", then try again")]
        try:
            return probe_kernel(client, kernel_name)
        except TimeoutError:
            return [Finding(False, f"the kernel {kernel_name!r} started but stopped answering (60 s)",
                            "restart JupyterLab and run `bplearn check` again; if it persists: "
                            + _pip("install", "--force-reinstall", "ipykernel"))]
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


def run_checks(kernel_name: str = "python3") -> int:
    """Print one line per check (and how to fix each problem); 0 if all passed, else 1."""
    print("bplearn check: is this Python ready for the course?")
    results: list[Finding] = []

    def report(findings):
        for f in findings:
            results.append(f)
            print(f"  {'ok  ' if f.ok else 'FAIL'}  {f.what}")
            if not f.ok:
                print(f"        fix: {f.fix}")
            sys.stdout.flush()                       # the kernel check takes a few seconds

    report([check_python()])
    report([check_package(name, minimum) for name, minimum in REQUIREMENTS.items()])
    report([check_widget_extension(), check_notebooks()])
    report(check_kernel(kernel_name))
    problems = sum(not f.ok for f in results)
    if problems:
        print(f"\n{problems} problem{'s' if problems > 1 else ''} found: fix "
              f"{'them' if problems > 1 else 'it'}, then run `bplearn check` again.")
        return 1
    print(f"\nAll {len(results)} checks passed. Get the notebooks with `bplearn course DIR`, "
          "then run `jupyter lab DIR`.")
    return 0


# ----------------------------------------------------------------------------- grade

def run_grade(argv: list[str], driver_name: str = "bplearn.grading.__main__") -> int:
    """Hand the arguments to the grading driver, ``bplearn.grading.__main__.main(argv)``."""
    try:
        spec = importlib.util.find_spec(driver_name)
    except ModuleNotFoundError:                      # its parent package is missing too
        spec = None
    if spec is None:
        _error(f"the grading driver ({driver_name}) is not part of this install of "
               f"bplearn {__version__}; update bplearn to get it.", command="grade")
        return 2
    driver = importlib.import_module(driver_name)
    if not callable(getattr(driver, "main", None)):
        _error(f"{driver_name} has no main(argv) function to call.", command="grade")
        return 2
    status = driver.main(argv)
    return 0 if status is None else int(status)


# ----------------------------------------------------------------------------- submit, progress

def _submit(notebook: Path) -> int:
    """``bplearn submit``: self-grading; errors a learner can fix are one line, not a traceback."""
    from .grading.selfgrade import submit

    if not notebook.is_file():
        _error(f"{notebook} is not a file: give the path of your saved exercise notebook.", command="submit")
        return 2
    try:
        return submit(notebook)
    except (ValueError, FileNotFoundError, LookupError) as exc:
        _error(str(exc), command="submit")
        return 2


def _progress(folder: Path) -> int:
    from .grading.selfgrade import progress

    return progress(folder)


# ----------------------------------------------------------------------------- command line

def _count(n: int, kind: str) -> str:
    """_count(1, "lesson") -> "1 lesson notebook"; _count(3, "lesson") -> "3 lesson notebooks"."""
    return f"{n} {kind} notebook{'' if n == 1 else 's'}"


def _error(message: str, command: str = "course") -> None:
    print(f"bplearn {command}: {message}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The parser for every command (course, check, submit, progress, grade); each stores its handler as ``run``."""
    parser = argparse.ArgumentParser(
        prog="bplearn",
        description="Learn backpropagation by doing it: get the course notebooks, check your "
                    "install, grade a class.",
        epilog="Run `bplearn COMMAND --help` for the options of one command.")
    parser.add_argument("--version", action="version", version=f"bplearn {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_setup_commands(commands)
    _add_exercise_commands(commands)
    return parser


def _add_setup_commands(commands) -> None:
    """``course`` (copy the notebooks) and ``check`` (is this Python ready for the course?)."""
    course = commands.add_parser(
        "course", help="copy the lesson and exercise notebooks into a folder",
        description="Copy the lesson notebooks (and the exercise notebooks, under exercises/) "
                    "into DIR, a folder you can write to, so you can run and change them. "
                    "Existing files are never overwritten unless you add --force.")
    course.add_argument("dir", metavar="DIR", type=Path, help="the folder to copy into (created if needed)")
    course.add_argument("--force", action="store_true", help="overwrite notebooks that already exist in DIR")
    course.set_defaults(run=lambda args: copy_course(args.dir, force=args.force))

    check = commands.add_parser(
        "check", help="check that this Python can run the course, and say what to fix",
        description="Check this Python for the course: package versions, the JupyterLab widget "
                    "extension, the notebooks, and a Jupyter kernel that computes, imports "
                    "bplearn and draws a plot. Prints how to fix each problem; the exit "
                    "status is 1 if any check failed.")
    check.add_argument("--kernel", default="python3", metavar="NAME",
                       help="the Jupyter kernel to try (default: python3, the one the notebooks use)")
    check.set_defaults(run=lambda args: run_checks(args.kernel))


def _add_exercise_commands(commands) -> None:
    """``submit`` and ``progress`` for a learner alone, ``grade`` for an instructor."""
    submit = commands.add_parser(
        "submit", help="grade your exercise notebook with the judge, on its visible parts",
        description="Grade an exercise notebook (exNN_name.ipynb) with the same judge instructors use: "
                    "your code runs in a separate process (sandboxed where the platform allows) on the "
                    "visible parts' inputs, and every part gets points and feedback. Hidden parts are "
                    "your instructor's and are not graded here.")
    submit.add_argument("notebook", metavar="NOTEBOOK", type=Path, help="your exercise notebook (save it first)")
    submit.set_defaults(run=lambda args: _submit(args.notebook))

    progress = commands.add_parser(
        "progress", help="show which lessons and exercises in a course folder are done",
        description="List the lessons (run or not yet) and exercises (last `bplearn submit` score) in DIR.")
    progress.add_argument("dir", metavar="DIR", type=Path, nargs="?", default=Path("."),
                          help="the course folder (default: the current folder)")
    progress.set_defaults(run=lambda args: _progress(args.dir))

    # Only listed here: main() hands everything after "grade" to the driver, --help included.
    commands.add_parser("grade", add_help=False,
                        help="grade a class with the judge (the same as python -m bplearn.grading)")


def main(argv: list[str] | None = None) -> int:
    """Run the command in ``argv`` (default: sys.argv[1:]) and return its exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["grade"]:
        return run_grade(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
