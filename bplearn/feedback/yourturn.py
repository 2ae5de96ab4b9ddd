"""Your-turn tasks: the learner writes a function, the task checks it on fresh inputs.

A lesson defines one ``Task`` per your-turn cell. Its code (the reference answer, the input
generator, each typical mistake as a function) is in ``bplearn/feedback/lessonNN.py``, and
its texts are data in ``bplearn/feedback/texts/lessonNN.toml``::

    [two_layer_backward]
    reference = "_two_layer_backward"       # the right answer, used when theirs is not ready
    inputs = "_two_layer_inputs"            # rng -> dict of keyword arguments
    outputs = ["dW1", "db1", "dW2", "db2"]  # names of the returned values, in order
    nudge = "..."
    hint = "..."

    [[two_layer_backward.mistakes]]
    name = "the tanh derivative is missing"
    compute = "_variant"                    # a function of lesson04.py ...
    keywords = { slope = "none" }           # ... called with the inputs and these keywords
    hint = "..."

and the module builds it with ``two_layer_backward = task_from_texts(globals(), "two_layer_backward")``.
The notebook runs ``two_layer_backward = task.check(two_layer_backward)`` after the
learner's cell. ``check`` never raises: it prints "✔ correct", "not done yet" or specific
feedback for every returned quantity, and hands back the learner's function when it is
right and the reference otherwise, so every later cell still runs.

A ``Mistake`` is a typical wrong answer written as code. When the learner's value of a
quantity equals the mistake's value on the same inputs, the learner gets that mistake's
hint; the same mistakes serve the unit tests that prove each hint appears.
"""
from __future__ import annotations

import ast
import copy
import functools
import inspect
import sys
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .compare import diagnose
from .probe import learner_frames
from .status import CORRECT, ERROR, NOT_DONE, WRONG



@dataclass
class Mistake:
    """A typical wrong answer: ``compute`` has the task's signature and makes the mistake.

    name: a few words for the mistake ("sign flipped"); hint: what to look at to fix it.
    """

    name: str
    compute: Callable
    hint: str


@dataclass
class Verdict:
    """What a check found. status: correct / not done / wrong / error.

    problems: one message per wrong quantity ({} when correct); mistakes: the names of
    the recognised Mistakes, in the order found; message: the whole text printed.
    """

    task: str
    status: str
    message: str
    problems: dict = field(default_factory=dict)
    mistakes: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == CORRECT

    def __str__(self) -> str:
        return self.message


class Task:
    """One your-turn cell: what the learner writes, how it is checked, and help in steps.

    name: the function the learner defines. reference: the correct function (same
    signature). inputs: rng -> dict of keyword arguments (fresh inputs, never the lesson's).
    outputs: names of the returned values (one name for a single value).
    mistakes: typical wrong answers. nudge, hint: help texts, asked for in that order.
    cases: how many fresh inputs to try. rtol, atol: tolerances of the comparison.
    batch_size: a function inputs -> N, so a missing or doubled 1/N is recognised.
    lesson: the notebook file name, so ``reset()`` can find the original stub.
    handle: how the learner reaches the task, e.g. "lesson04.two_layer_backward"; by default
    the name of the module that creates the Task, a dot, and ``name``.
    """

    def __init__(self, name: str, reference: Callable, inputs: Callable, outputs, *, mistakes=(),
                 nudge: str = "", hint: str = "", cases: int = 2, rtol: float = 1e-6, atol: float = 1e-9,
                 batch_size: Callable | None = None, lesson: str = "", seed: int = 2024, handle: str = ""):
        self.name, self.reference, self.make_inputs = name, reference, inputs
        self.handle = handle or f"{sys._getframe(1).f_globals.get('__name__', '').rsplit('.', 1)[-1]}.{name}"
        self.outputs = (outputs,) if isinstance(outputs, str) else tuple(outputs)
        self.mistakes = list(mistakes)
        self.nudge_text, self.hint_text = nudge, hint
        self.cases, self.rtol, self.atol, self.seed = cases, rtol, atol, seed
        self.batch_size, self.lesson = batch_size, lesson
        self.tried = None      # the learner's function as last checked, right or wrong

    # --- checking ----------------------------------------------------------------------
    def verdict(self, fn) -> Verdict:
        """Judge ``fn`` on fresh inputs without printing; never raises."""
        if not callable(fn):
            return Verdict(self.name, NOT_DONE if fn is None or fn is Ellipsis else ERROR,
                           f"{self.name} is not a function (it is {type(fn).__name__}). "
                           f"Define it with `def {self.name}(...):` in the cell above and run that cell.")
        if is_stub(fn):
            return Verdict(self.name, NOT_DONE, f"{self.name}: not done yet. Fill in the body of "
                           f"`{self.name}` in the cell above (replace the `...`), run it, then run this check.")
        rng = np.random.default_rng(self.seed)
        for _ in range(self.cases):
            verdict = self._judge_case(fn, self.make_inputs(rng))
            if not verdict.ok:
                return verdict
        n = "input" if self.cases == 1 else f"{self.cases} fresh inputs"
        verb = "matches" if len(self.outputs) == 1 else "match"
        return Verdict(self.name, CORRECT, f"✔ {self.name} is correct: {', '.join(self.outputs)} "
                       f"{verb} the reference on {n}.")

    def _judge_case(self, fn, inputs: dict) -> Verdict:
        expected = self._as_tuple(self.reference(**_copy(inputs)))
        try:
            received = fn(**_copy(inputs))
        except Exception as exc:  # the learner's code failed: show their line, not ours
            return Verdict(self.name, ERROR, f"{self.name} raised {type(exc).__name__}: {exc}\n"
                           f"{_learner_frames(exc)}  (the inputs had shapes {_shapes(inputs)})")
        shape_problem = self._returned_shape_problem(received)
        if shape_problem:
            return Verdict(self.name, WRONG, shape_problem, {"(return value)": shape_problem})
        received = self._as_tuple(received)
        problems, found = {}, []
        for i, (name, want, got) in enumerate(zip(self.outputs, expected, received)):
            message = diagnose(name, got, want, self.rtol, self.atol, self._n(inputs), gradient=True)
            if message:
                mistake = self._recognise(inputs, i, got)
                if mistake:
                    found.append(mistake.name)
                    message += f"\n    Likely mistake: {mistake.name}. {mistake.hint}"
                problems[name] = message
        if not problems:
            return Verdict(self.name, CORRECT, "")
        right = [n for n in self.outputs if n not in problems]
        text = f"✘ {self.name}: " + "; ".join(f"{n} is wrong" for n in problems)
        text += (f" ({', '.join(right)} {'is' if len(right) == 1 else 'are'} right)." if right else ".")
        text += "".join(f"\n  • {m}" for m in _say_each_hint_once(list(problems.values()), self.mistakes))
        text += f"\n  (inputs: {_shapes(inputs)})"
        return Verdict(self.name, WRONG, text, problems, found)

    def _recognise(self, inputs: dict, i: int, got) -> Mistake | None:
        for mistake in self.mistakes:
            try:
                value = self._as_tuple(mistake.compute(**_copy(inputs)))[i]
                if np.shape(value) == np.shape(got) and np.allclose(got, value, rtol=self.rtol, atol=self.atol):
                    return mistake
            except Exception:  # a mistake that cannot run on these inputs just does not match
                continue
        return None

    def _returned_shape_problem(self, received) -> str | None:
        if len(self.outputs) == 1:
            return None if received is not None else (
                f"{self.name} returned None. Did the function forget to `return {self.outputs[0]}`?")
        names = ", ".join(self.outputs)
        if received is None:
            return f"{self.name} returned None. It should end with `return {names}`."
        if not isinstance(received, (tuple, list)) or len(received) != len(self.outputs):
            got = f"a {type(received).__name__}" + (f" of length {len(received)}"
                                                   if isinstance(received, (tuple, list)) else "")
            return (f"{self.name} should return {len(self.outputs)} values ({names}), in that order, "
                    f"but returned {got}. End the function with `return {names}`.")
        return None

    def _as_tuple(self, value) -> tuple:
        return (value,) if len(self.outputs) == 1 else tuple(value)

    def _n(self, inputs: dict):
        return self.batch_size(inputs) if self.batch_size else None

    def check(self, fn):
        """Print the verdict on ``fn``; return ``fn`` if it is right, else the reference."""
        self.tried = fn
        verdict = self.verdict(fn)
        print(verdict.message)
        if verdict.ok:
            return fn
        if verdict.status == NOT_DONE:
            print(f"  The rest of the lesson uses the reference {self.name} for now.")
        else:
            print(f"  The rest of the lesson uses the reference {self.name} until yours passes.\n"
                  f"  Stuck? Ask for help in steps: {self.handle}.nudge(), then .hint(), then .answer();"
                  f" {self.handle}.reset() brings back the empty stub.")
        return self.reference

    def try_yours(self, *args, **kwargs) -> dict:
        """Your last checked function's outputs on these inputs, by name, to open in a stepper.

        Falls back to the reference (and says so) while yours is a stub, raises, or returns
        the wrong number of values, so the cells that show it always run.
        """
        fn, why = self.tried, None
        if fn is None or not callable(fn) or is_stub(fn):
            why = "yours is not written yet"
        else:
            try:
                values = fn(*args, **kwargs)
                why = self._returned_shape_problem(values)
            except Exception as exc:
                why = f"yours raised {type(exc).__name__}: {exc}"
        if why:
            print(f"Showing the reference {self.name}: {why}.")
            values = self.reference(*args, **kwargs)
        return dict(zip(self.outputs, self._as_tuple(values)))

    # --- help in steps -----------------------------------------------------------------
    def nudge(self) -> None:
        """The smallest push: where to look."""
        print(f"Nudge for {self.name}: {self.nudge_text}")

    def hint(self) -> None:
        """A bigger push: the idea or formula, without the code."""
        print(f"Hint for {self.name}: {self.hint_text}")

    def answer(self) -> None:
        """The reference answer as code. Try the nudge and the hint first."""
        print(f"One correct {self.name}:\n")
        print(textwrap.dedent(inspect.getsource(self.reference)))

    def reset(self) -> None:
        """Put the original stub of this your-turn cell into a new cell below (or print it)."""
        try:
            stub = original_stub(self.lesson, self.name)
        except (OSError, LookupError, ValueError) as err:
            print(f"Could not find the original stub of {self.name} ({err}). Copy it from the lesson "
                  f"as shipped, or run `bplearn course DIR` for a fresh copy of every lesson.")
            return
        try:
            from IPython import get_ipython
            shell = get_ipython()
        except ImportError:
            shell = None
        if shell is not None and hasattr(shell, "set_next_input"):
            shell.set_next_input(stub, replace=False)
            print(f"The original stub of {self.name} is in a new cell below: run it to start again.")
        else:
            print(stub)


TEXTS_DIR = Path(__file__).parent / "texts"
_TASK_KEYS = {"reference", "inputs", "outputs", "nudge", "hint"}          # every task has these
_TASK_OPTIONS = {"mistakes", "cases", "rtol", "atol", "seed", "batch_size_of"}
_MISTAKE_KEYS, _MISTAKE_OPTIONS = {"name", "compute", "hint"}, {"keywords"}


def task_from_texts(namespace: dict, name: str) -> Task:
    """The Task ``name`` of a lesson module, built from its table in ``texts/<module>.toml``.

    namespace: the lesson module's ``globals()``, which holds the code: the functions the
    table names by string (``reference``, ``inputs``, each mistake's ``compute``) and
    ``LESSON``, the notebook's file name. Everything else is data in the table: outputs
    (a string, or a list of strings), nudge, hint, each mistake's name, hint and
    ``keywords`` (a table of keyword arguments its function is called with besides the
    inputs), and the options cases, rtol, atol, seed (numbers) and batch_size_of (the
    name of the input whose length is the batch size N).

    No option is code: whatever would be a lambda or a wrapped function (a reference run
    on a copy of its inputs, say) is a named function of the module that the table names.
    Raises LookupError naming the file, the task and what is missing or unknown.
    """
    module = namespace["__name__"].rsplit(".", 1)[-1]
    where = f"{TEXTS_DIR / module}.toml, task [{name}]"
    entry = _task_table(TEXTS_DIR / f"{module}.toml", name, where)
    options = {key: entry[key] for key in ("cases", "rtol", "atol", "seed") if key in entry}
    if "batch_size_of" in entry:
        options["batch_size"] = _length_of(entry["batch_size_of"])
    mistakes = [_mistake_from(table, namespace, f"{where}, mistake {table.get('name')!r}")
                for table in entry.get("mistakes", [])]
    return Task(name, _named_function(namespace, entry, "reference", where),
                _named_function(namespace, entry, "inputs", where), entry["outputs"],
                mistakes=mistakes, nudge=entry["nudge"], hint=entry["hint"],
                lesson=namespace.get("LESSON", ""), handle=f"{module}.{name}", **options)


def _task_table(path: Path, name: str, where: str) -> dict:
    """The table [name] of the TOML file at ``path``, with its keys checked."""
    with path.open("rb") as file:
        tasks = tomllib.load(file)
    if name not in tasks:
        raise LookupError(f"{path} has no table [{name}] for the task {name}.")
    _check_keys(tasks[name], _TASK_KEYS, _TASK_OPTIONS, where)
    return tasks[name]


def _mistake_from(table: dict, namespace: dict, where: str) -> Mistake:
    """A Mistake from its TOML table: name, hint, compute (a function's name) and optional keywords."""
    _check_keys(table, _MISTAKE_KEYS, _MISTAKE_OPTIONS, where)
    compute = _named_function(namespace, table, "compute", where)
    if table.get("keywords"):
        compute = functools.partial(compute, **table["keywords"])
    return Mistake(table["name"], compute, table["hint"])


def _named_function(namespace: dict, table: dict, key: str, where: str) -> Callable:
    """The function of the lesson module that ``table[key]`` names; LookupError if there is none."""
    function = namespace.get(table[key])
    if not callable(function):
        raise LookupError(f"{where}: {key} = {table[key]!r}, but {namespace['__name__']} has no "
                          f"function named {table[key]!r}.")
    return function


def _check_keys(table: dict, required: set, optional: set, where: str) -> None:
    """LookupError if ``table`` lacks a required key or has one that is neither required nor optional."""
    missing, unknown = required - set(table), set(table) - required - optional
    if missing or unknown:
        raise LookupError(f"{where}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)} "
                          f"(every table has {sorted(required)}, and may have {sorted(optional)}).")


def _length_of(input_name: str) -> Callable:
    """inputs -> len(inputs[input_name]): the batch size N, so a missing or doubled 1/N is recognised."""
    return lambda inputs: len(inputs[input_name])


def is_stub(fn) -> bool:
    """True if ``fn``'s body is still only ``...`` / ``pass`` (after an optional docstring)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return False
    defs = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not defs:
        return False
    body = defs[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                           and s.value.value is Ellipsis) for s in body)


def original_stub(lesson: str, name: str) -> str:
    """The source of the your-turn cell in ``lesson`` that defines ``name``, as shipped."""
    import json

    from ..cli import notebook_dirs   # the shipped lessons: inside a wheel, or course/ in a checkout

    cells = json.loads((notebook_dirs()[0] / lesson).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        source = "".join(cell["source"])
        if "your-turn" in cell.get("metadata", {}).get("tags", []) and f"def {name}(" in source:
            return source
    raise LookupError(f"no your-turn cell defining {name} in {lesson}")


def _say_each_hint_once(messages: list, mistakes: list) -> list:
    """One mistake often spoils several outputs: print its hint with the first, "see above" after."""
    said = set()
    for i, message in enumerate(messages):
        for mistake in mistakes:
            line = f"Likely mistake: {mistake.name}. {mistake.hint}"
            if line in message and mistake.name in said:
                messages[i] = message.replace(line, f"Likely mistake: {mistake.name} (see above).")
            elif line in message:
                said.add(mistake.name)
    return messages


def _copy(inputs: dict) -> dict:
    """Fresh deep copies (arrays, models, optimisers), so a function that changes its inputs
    in place cannot spoil the reference's or the next call's."""
    return copy.deepcopy(inputs)


def _shapes(inputs: dict) -> str:
    """The inputs in one short line: arrays by shape, numbers by value, objects by type."""
    return ", ".join(f"{k}: {_short(v)}" for k, v in inputs.items())


def _short(value) -> str:
    if isinstance(value, np.ndarray):
        return str(value.shape)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    text = repr(value)   # short, readable reprs (numbers, named test functions) are kept
    return text if len(text) <= 60 and " at 0x" not in text and "\n" not in text else type(value).__name__


def _learner_frames(exc: BaseException) -> str:
    """The traceback lines of the learner's own code (notebook cells): no bplearn or numpy frames."""
    return "".join(f"  at line {f.lineno} of your cell: {f.line}\n" for f in learner_frames(exc)[-2:])
