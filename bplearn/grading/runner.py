"""The learner's side of judging: runs INSIDE the sandbox, as an unprivileged user.

    python -I -c "<put this bplearn first on sys.path, run this module>" WORKDIR

(the command is ``sandbox.runner_command``).

WORKDIR holds ``program.json`` (the code cells to run, in order, and the probes) and
``inputs.npz`` (the judge's inputs, plain arrays). The runner executes the cells in one
namespace, then runs every probe on every case and writes ``out/outputs.npz`` (arrays
only) and ``out/outputs.json`` (how they fit together). It never decides whether anything
is right: the judge, in another process, reads these files as data (``allow_pickle=False``)
and compares. Learner code can rewrite or forge them; that only changes the learner's own
answers, which are then judged like any other.

Imports, before any learner code runs: the standard library, numpy, and the probe it shares with
the check cells (``bplearn.feedback.probe``).
"""
from __future__ import annotations

import io
import json
import linecache
import os
import signal
import sys
from pathlib import Path

import numpy as np
from ..errors import CellTimeout
from ..feedback.probe import describe_error, run_probe

MAX_ITEMS = 32            # entries of a returned tuple/list that are kept
MAX_DEPTH = 3             # nesting of tuples/lists that is kept
MAX_ARRAY_BYTES = 32 << 20  # per probe result: bigger answers are reported as too large


class _Encoder:
    """Turns a probe's result into JSON-able descriptions plus arrays for the .npz file."""

    def __init__(self):
        self.arrays: dict = {}
        self.bytes = 0

    def encode(self, value, key: str, depth: int = 0) -> dict:
        if value is None:
            return {"kind": "none"}
        if isinstance(value, (bool, int, float, np.generic)) and not isinstance(value, (str, bytes)):
            return self._array(np.asarray(value), key, pytype=type(value).__name__)
        if isinstance(value, np.ndarray):
            return self._array(value, key, pytype="ndarray")
        if isinstance(value, (tuple, list)) and depth < MAX_DEPTH:
            items = [self.encode(v, f"{key}.{i}", depth + 1) for i, v in enumerate(value[:MAX_ITEMS])]
            return {"kind": "sequence", "type": type(value).__name__, "length": len(value), "items": items}
        return {"kind": "other", "type": type(value).__name__[:40], "repr": _safe_repr(value)}

    def _array(self, array: np.ndarray, key: str, pytype: str) -> dict:
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            return {"kind": "other", "type": f"ndarray of dtype {array.dtype}"[:60], "repr": _safe_repr(array)}
        self.bytes += array.nbytes
        if self.bytes > MAX_ARRAY_BYTES:
            return {"kind": "too large", "shape": list(array.shape)}
        self.arrays[key] = np.array(array, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
        return {"kind": "array", "key": key, "pytype": pytype}


def _safe_repr(value) -> str:
    try:
        text = repr(value)
    except Exception:  # a learner's __repr__ may fail: the type name is enough
        text = "<unprintable>"
    return text[:80]


def _on_alarm(signum, frame):
    raise CellTimeout("it ran longer than the time limit for one cell (an endless loop?)")


def _alarm(seconds: float) -> None:
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, seconds)


def run_cells(cells: list, namespace: dict, timeout: float = 0) -> list:
    """Execute the cells in order; return one error description per failed cell (others go on).

    timeout: seconds per cell (0: none). Learner code can switch the alarm off; then the
    sandbox's wall-time limit ends the whole run instead.
    """
    errors = []
    for index, source in enumerate(cells):
        filename = f"<cell {index}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # inspect, tracebacks
        try:
            _alarm(timeout)
            exec(compile(_without_magics(source), filename, "exec"), namespace)
        except BaseException as exc:  # SystemExit, KeyboardInterrupt too: one cell, not the notebook
            errors.append({"cell": index, **describe_error(exc)})
        finally:
            _alarm(0)
    return errors


def _without_magics(source: str) -> str:
    """IPython magics (%...) and shell escapes (!...) do nothing here; keep the line numbers."""
    return "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


def load_inputs(path: Path) -> dict:
    """{part: [case dict, ...]} from keys "part/case/name"; 0-d arrays become Python numbers."""
    grouped: dict = {}
    with np.load(path, allow_pickle=False) as data:
        for key in data.files:
            part, case, name = key.split("/", 2)
            array = data[key]
            value = array.item() if array.ndim == 0 else array
            grouped.setdefault(part, {}).setdefault(int(case), {})[name] = value
    return {part: [cases[i] for i in sorted(cases)] for part, cases in grouped.items()}


def main(workdir: str) -> int:
    workdir = Path(workdir)
    program = json.loads((workdir / "program.json").read_text(encoding="utf-8"))
    inputs = load_inputs(workdir / "inputs.npz")
    out = workdir / "out"
    out.mkdir(exist_ok=True)
    timeout = float(program.get("cell_timeout", 0))
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, _on_alarm)
    namespace = {"__name__": "__main__", "display": print}
    cell_errors = run_cells(program["cells"], namespace, timeout)
    encoder, results = _Encoder(), {}
    for part in program["probes"]:
        cases = []
        given = inputs.get(part["id"], [])
        for i in range(int(part["cases"])):
            case = given[i] if i < len(given) else {}   # a part without inputs (a value) has no arrays
            try:
                _alarm(timeout)
                status, payload = run_probe(part["probe"], namespace, {k: _copy(v) for k, v in case.items()})
            except BaseException as exc:  # the alarm, or a probe of the spec failing on an odd answer
                status, payload = "error", describe_error(exc)
            finally:
                _alarm(0)
            detail = encoder.encode(payload, f"{part['id']}/{i}") if status == "ok" else payload
            cases.append({"status": status, "value" if status == "ok" else "detail": detail})
        results[part["id"]] = cases
        _save(out, encoder, cell_errors, results)   # after every part: a later endless loop keeps these
    _save(out, encoder, cell_errors, results)
    return 0


def _save(out: Path, encoder: _Encoder, cell_errors: list, results: dict) -> None:
    """Write the arrays, then the manifest that points into them (the judge reads the manifest)."""
    np.savez(out / "outputs.tmp.npz", **encoder.arrays)
    os.replace(out / "outputs.tmp.npz", out / "outputs.npz")
    (out / "outputs.tmp.json").write_text(json.dumps({"cell_errors": cell_errors, "parts": results}), encoding="utf-8")
    os.replace(out / "outputs.tmp.json", out / "outputs.json")


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, errors="replace", line_buffering=True)
    os.umask(0o077)
    sys.exit(main(sys.argv[1]))
