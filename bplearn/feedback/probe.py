"""Run one probe of an exercise part: call the learner's function (or read their variable).

The same code runs in two places: in the learner's own kernel, for the check cells
(``bplearn.feedback.exercise``), and inside the grading sandbox, where the instructor's
runner (``bplearn.grading.runner``) calls it on the judge's inputs. A probe never raises
for the learner's failure: it returns a status and plain data the judge can read.

Imports: the standard library only (the sandbox imports this before any learner code runs).
"""
from __future__ import annotations

import os
import traceback
from pathlib import Path

from .status import ERROR, MISSING, NOT_DONE, OK


def run_probe(spec: dict, namespace: dict, inputs: dict) -> tuple[str, object]:
    """One probe on one case: ("ok", value) or ("missing" / "not done" / "error", detail dict).

    spec: the probe as plain data, {"kind": "call" | "value" | "code", "name": str, "source": str}
    (``Probe.to_json()``). namespace: where the learner's names live. inputs: keyword arguments.
    """
    kind, name = spec["kind"], spec["name"]
    if kind == "code":
        helper: dict = {"__name__": "probe"}
        exec(compile(spec["source"], "<judge probe>", "exec"), helper)
        target, args = helper[name], (namespace,)
    elif name not in namespace:
        return MISSING, {"name": name}
    else:
        target, args = namespace[name], ()
    if kind == "value":
        return OK, target
    try:
        return OK, target(*args, **inputs)
    except NotImplementedError:
        return NOT_DONE, {"name": name}
    except BaseException as exc:  # the learner's failure is reported, never raised here
        return ERROR, describe_error(exc)


def describe_error(exc: BaseException) -> dict:
    """{"type", "message", "where"}: the exception and the last two lines of the learner's cells it passed."""
    where = [f"line {f.lineno} of your code: {(f.line or '').strip()}" for f in learner_frames(exc)[-2:]]
    return {"type": type(exc).__name__[:60], "message": str(exc)[:300], "where": where}


_LIBRARY_DIRS = (str(Path(__file__).resolve().parents[1]), "site-packages", f"{os.sep}lib{os.sep}python")
_CELL_NAMES = ("<cell ", "<ipython-input")      # how the sandbox and older IPythons name cells


def learner_frames(exc: BaseException) -> list[traceback.FrameSummary]:
    """The frames of ``exc``'s traceback in the learner's own code, oldest first.

    A notebook cell is a temporary file in Jupyter and ``<cell N>`` in the grading
    sandbox; frames in bplearn, numpy or Python's library, and code the judge compiles
    itself (``<judge probe>``), are left out.
    """
    return [f for f in traceback.extract_tb(exc.__traceback__) if _is_learner_file(f.filename)]


def _is_learner_file(filename: str) -> bool:
    if filename.startswith("<"):
        return filename.startswith(_CELL_NAMES)
    return not any(part in str(Path(filename).resolve()) for part in _LIBRARY_DIRS)
