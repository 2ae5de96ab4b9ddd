"""How an exercise is specified for the judge (the format is described in docs/exercise_format.md).

An exercise is a solution notebook ``solutions/exNN_name.ipynb`` (nbgrader markers, as
before) plus a judge spec beside it, ``solutions/exNN_name.judge.py``, a Python file that
defines ``EXERCISE = Exercise(...)``. The spec says, for every graded part:

* what to ask of the learner's code (a *probe*, run in the sandbox: ``call`` a function,
  read a ``value``, or run a small ``probe`` function of the spec's own);
* on which inputs (``inputs(rng) -> dict``, drawn fresh from the judge's seed; keys that
  start with ``_`` never leave the judge, e.g. held-out labels);
* how the returned plain data is judged, in the trusted process: against a ``reference``
  (usually the solution's own function, see ``solution``) with ``diagnose``'s messages and
  the hints of typical ``Mistake``s, or by a property (``accuracy``, ``custom``).

Nothing in this module runs learner code; ``load_spec`` only imports the instructor's spec.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import importlib.util
import inspect
import json
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..feedback.yourturn import Mistake
from ..errors import SpecError

__all__ = ["Exercise", "Part", "Mistake", "Mutant", "Probe", "call", "value", "probe", "solution",
           "accuracy", "custom", "load_spec", "spec_path_for", "FORMAT_VERSION", "SpecError"]

FORMAT_VERSION = 1
_PART_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


# --- probes: what the sandbox asks of the learner's code ------------------------------------

@dataclass(frozen=True)
class Probe:
    """What the sandboxed runner does for a part, as plain data it can read without the spec.

    kind: "call" (call ``name`` with the inputs as keyword arguments), "value" (read the
    variable ``name``) or "code" (``source`` defines ``def <name>(ns, **inputs)``; ``ns`` is
    the learner's namespace). The runner returns whatever comes back, as plain data.
    """

    kind: str
    name: str
    source: str = ""

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name, "source": self.source}


def call(name: str) -> Probe:
    """Call the learner's function ``name(**inputs)``; its return value is judged."""
    return Probe("call", name)


def value(name: str) -> Probe:
    """Read the learner's variable ``name`` (e.g. a derivation answered as a number)."""
    return Probe("value", name)


def probe(fn: Callable) -> Probe:
    """Run ``fn(ns, **inputs)`` in the sandbox; ``fn`` must be a top-level function of the spec
    that imports what it needs inside its body (numpy, bplearn) and returns numbers/arrays."""
    source = textwrap.dedent(inspect.getsource(fn))
    if not source.startswith(f"def {fn.__name__}("):
        raise SpecError(f"probe({fn.__name__}): pass a plain top-level `def`, not a lambda or a method")
    return Probe("code", fn.__name__, source)


# --- references and properties (trusted side only) ---------------------------------------------

@dataclass(frozen=True)
class SolutionRef:
    """A function defined by the solution notebook's code cells, looked up when first needed."""

    name: str


def solution(name: str) -> SolutionRef:
    """The reference is the solution notebook's own ``name`` (no second copy of the answer)."""
    return SolutionRef(name)


@dataclass(frozen=True)
class Property:
    """Judge by a property instead of a reference value.

    kind "accuracy": the received value is a vector of predicted class labels for the
    inputs; it passes when the fraction equal to ``inputs[labels]`` is at least ``minimum``.
    kind "custom": ``fn(received, inputs) -> None`` (right) or a message (wrong); hidden
    parts only, because it is code that self-grading cannot ship.
    """

    kind: str
    minimum: float = 0.0
    labels: str = ""
    fn: Callable | None = None


def accuracy(minimum: float, labels: str = "_labels") -> Property:
    """Predicted labels must match ``inputs[labels]`` (a judge-only key) at least ``minimum`` of the time."""
    if not labels.startswith("_"):
        raise SpecError(f"accuracy(labels={labels!r}): the labels must be a judge-only key starting with '_'")
    return Property("accuracy", minimum=float(minimum), labels=labels)


def custom(fn: Callable) -> Property:
    """``fn(received, inputs) -> None | message``; only for hidden parts."""
    return Property("custom", fn=fn)


# --- parts, mutants, exercises ---------------------------------------------------------------

@dataclass
class Part:
    """One graded part: one nbgrader test cell (``grade_id == id``) worth ``points``.

    quantity: how the feedback names it ("dW"). output: index into a returned tuple (None:
    the whole return value). reference: a callable taking the inputs (or ``solution(...)``)
    whose return value (indexed by ``output``) is the expected answer; or check: a Property.
    batch_size: the input key whose first axis is N (so a missing 1/N is recognised).
    like: what the answer is shaped like, for the shape message. hint: added when no
    known mistake matches. cases: how many fresh inputs (all must pass).
    hidden: graded by the instructor's judge only; visible parts also run in self-grading.
    """

    id: str
    quantity: str
    points: float
    probe: Probe
    inputs: Callable
    reference: Callable | SolutionRef | None = None
    check: Property | None = None
    output: int | None = None
    mistakes: list = field(default_factory=list)
    batch_size: str | None = None
    like: str = ""
    hint: str = ""
    rtol: float = 1e-6
    atol: float = 1e-9
    cases: int = 2
    hidden: bool = False


@dataclass
class Mutant:
    """A plausible wrong answer, as text edits of the solution cells: (old, new) pairs, each
    ``old`` occurring exactly once. loses: the parts it must lose; says: part id -> text the
    feedback must contain. The same list feeds the tests and the grader's mutation checks."""

    name: str
    edits: list
    loses: list
    says: dict = field(default_factory=dict)


@dataclass
class Exercise:
    """An exercise for the judge. notebook: the stem, e.g. "ex03_linear_backward".

    lesson: the lesson number it builds on ("03"). parts: the graded parts, in order.
    mutants: wrong answers that must lose marks. visible_seed: the seed of the inputs shipped
    for self-grading and for the check cells (instructor grading draws a fresh seed).
    path: the spec file (set by load_spec).
    """

    notebook: str
    lesson: str
    parts: list
    mutants: list = field(default_factory=list)
    visible_seed: int = 0
    path: Path | None = None
    _solution_ns: dict | None = field(default=None, repr=False)

    @property
    def points(self) -> float:
        return float(sum(p.points for p in self.parts))

    def part(self, part_id: str) -> Part:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise KeyError(f"{self.notebook} has no part {part_id!r}; its parts: {', '.join(p.id for p in self.parts)}")

    def digest(self) -> str:
        """sha256 of the spec file and its solution notebook: recorded with every result."""
        h = hashlib.sha256()
        for path in (self.path, self.solution_notebook()):
            if path and path.exists():
                h.update(path.read_bytes())
        return h.hexdigest()[:16]

    def solution_notebook(self) -> Path | None:
        return self.path.with_name(f"{self.notebook}.ipynb") if self.path else None

    def reference_function(self, ref) -> Callable:
        """Resolve a Part.reference: a callable, or solution(name) from the solution notebook."""
        if not isinstance(ref, SolutionRef):
            return ref
        if self._solution_ns is None:
            self._solution_ns = solution_namespace(self.solution_notebook())
        if ref.name not in self._solution_ns:
            raise SpecError(f"{self.path}: solution({ref.name!r}) but the solution notebook defines no {ref.name}")
        return self._solution_ns[ref.name]


def solution_namespace(notebook: Path) -> dict:
    """Run the solution notebook's code cells (not the graded cells) in a fresh namespace.

    Trusted side only: this is the instructor's own code from solutions/. Lines that are
    IPython magics or shell escapes are skipped, and what the cells print is discarded.
    """
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    namespace: dict = {"__name__": f"solution_{Path(notebook).stem}"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in cells:
            if cell["cell_type"] != "code" or cell["metadata"].get("nbgrader", {}).get("grade"):
                continue
            source = "".join(cell["source"])
            source = "\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!")))
            exec(compile(source, f"<{Path(notebook).name}>", "exec"), namespace)
    return namespace


# --- loading ---------------------------------------------------------------------------------

def spec_path_for(notebook: Path) -> Path:
    """solutions/ex03_x.ipynb -> solutions/ex03_x.judge.py"""
    notebook = Path(notebook)
    return notebook.with_name(f"{notebook.stem}.judge.py")


def load_spec(path) -> Exercise:
    """Import a judge spec file and check it; raise SpecError naming what to fix."""
    path = Path(path).resolve()
    if not path.is_file():
        raise SpecError(f"judge spec {path} does not exist; write it next to the solution notebook")
    name = "bplearn_judge_" + re.sub(r"\W", "_", path.stem)
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module   # dataclasses and inspect need the module registered
    module_spec.loader.exec_module(module)
    exercise = getattr(module, "EXERCISE", None)
    if not isinstance(exercise, Exercise):
        raise SpecError(f"{path} must define EXERCISE = Exercise(...)")
    exercise.path = path
    validate(exercise)
    return exercise


def validate(exercise: Exercise) -> None:
    """Structural checks; notebook-level checks (cells and points) are in check_notebook."""
    where = exercise.path or exercise.notebook
    if not exercise.parts:
        raise SpecError(f"{where}: an exercise needs at least one part")
    ids = [p.id for p in exercise.parts]
    if len(set(ids)) != len(ids):
        raise SpecError(f"{where}: part ids must be unique, got {ids}")
    for p in exercise.parts:
        _validate_part(where, p)


def _validate_part(where, p: Part) -> None:
    if not _PART_ID.match(p.id):
        raise SpecError(f"{where}: part id {p.id!r} must be lower-case letters, digits, '-' or '_'")
    if p.points <= 0 or p.cases < 1:
        raise SpecError(f"{where}: part {p.id} needs points > 0 and cases >= 1")
    if (p.reference is None) == (p.check is None):
        raise SpecError(f"{where}: part {p.id} needs exactly one of reference=... or check=...")
    if not isinstance(p.probe, Probe):
        raise SpecError(f"{where}: part {p.id}: probe must be call(...), value(...) or probe(...)")
    if p.check is not None and p.check.kind == "custom" and not p.hidden:
        raise SpecError(f"{where}: part {p.id} uses custom(...), which self-grading cannot ship: "
                        "make it hidden=True, or use a reference or accuracy(...)")


def check_notebook(exercise: Exercise, notebook: Path | None = None) -> None:
    """Every part has a graded nbgrader cell with the same grade_id and points, and vice versa."""
    notebook = Path(notebook or exercise.solution_notebook())
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    graded = {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"].get("points", 0)
              for c in cells if c["metadata"].get("nbgrader", {}).get("grade")}
    parts = {p.id: p.points for p in exercise.parts}
    if set(graded) != set(parts):
        raise SpecError(f"{notebook.name}: graded cells {sorted(graded)} must be exactly the parts {sorted(parts)}")
    wrong = {k: (graded[k], parts[k]) for k in parts if float(graded[k]) != float(parts[k])}
    if wrong:
        raise SpecError(f"{notebook.name}: points differ between notebook and spec (cell, spec): {wrong}")
