"""GraphStepper: walk through a scalar computational graph, forward then backward."""
from __future__ import annotations

import math
import numbers

from ...engine import Value
from ..trace import fmt, trace_value
from ..viz.graph import GraphView
from ..viz.style import new_figure
from .base import Stepper

# What an expression string may call besides the Value methods (x.tanh(), x.exp(), ...).
_ALLOWED = {"tanh": Value.tanh, "exp": Value.exp, "log": Value.log, "relu": Value.relu, "sigmoid": Value.sigmoid}


def value_from_expression(expression: str, **inputs: float) -> Value:
    """Build the graph of ``expression`` with one labelled leaf Value per input.

    >>> value_from_expression("(w * x + b - t) ** 2", w=0.5, x=2.0, b=0.5, t=1.0).data
    0.25

    Functions tanh, exp, log, relu and sigmoid may be used as tanh(z) or z.tanh().
    """
    leaves = {}
    for name, number in inputs.items():
        if not isinstance(number, numbers.Real) or isinstance(number, bool):
            raise TypeError(f"GraphStepper: the input {name}={number!r} must be a plain number, e.g. {name}=0.5.")
        leaves[name] = Value(float(number), name)
    try:
        out = eval(compile(expression, "<expression>", "eval"), {"__builtins__": {}}, {**_ALLOWED, **leaves})
    except NameError as exc:
        raise NameError(
            f"GraphStepper: {exc} in {expression!r}. Give every input a value, e.g. "
            f"GraphStepper({expression!r}, w=0.5, x=2.0)."
        ) from None
    if not isinstance(out, Value):
        raise TypeError(f"GraphStepper: {expression!r} gave {out!r}, not a Value; it must use at least one input.")
    return out


class GraphStepper(Stepper):
    """Step through the forward and backward pass of a scalar graph.

    GraphStepper(L)                                   L: the output Value of an expression
    GraphStepper(lambda: (w * x + b - t) ** 2)        a function that builds it
    GraphStepper("(w * x + b - t) ** 2", w=0.5, x=2.0, b=0.1, t=1.0)   a formula and its inputs

    Each backward step adds one chain-rule product, e.g.
    "dL/dw = dL/dn2 · dn2/dw = -1.8 × 2 = -3.6". The graph's ``.grad`` values are
    filled in (as by ``L.backward()``) when the stepper is built.

    compare: {node name: your gradient}, e.g. {"w": 0.31, "b": -0.2} (a learner's own
    dL/dnode). The text and picture then show "yours" beside the reference for each of
    those nodes once backprop has finished it, and the first one that differs (in
    backward order) is marked; ``comparison`` lists them all.
    """

    title = "GraphStepper"

    def __init__(self, value_or_expression, compare: dict | None = None, **inputs: float):
        self.output = _graph_source(value_or_expression, inputs)
        trace = trace_value(self.output)
        self.comparison = compare_graph(trace, compare) if compare is not None else []
        self.first_difference = next((c for c in self.comparison if not c["match"]), None)
        view = GraphView(trace, fig=new_figure((8, 4), pyplot=False), comparison=self.comparison)
        self._start(trace, view)

    def text(self) -> str:
        """The current step's sentence, then "yours vs reference" for a compared node it finishes."""
        return "\n".join([self.trace[self.index].text, *self.comparison_text()])

    def _comparison_line(self, row: dict) -> str:
        """"your dL/dw = 0.31, reference 0.4: differs (the first gradient that differs)"."""
        first = row is self.first_difference
        verdict = "matches" if row["match"] else "differs" + (" (the first gradient that differs)" if first else "")
        return f"your dL/d{row['name']} = {fmt(row['yours'])}, reference {fmt(row['reference'])}: {verdict}"

    def _difference_label(self, row: dict) -> str:
        return f"dL/d{row['name']}"


def _graph_source(source, inputs: dict) -> Value:
    """The output Value from a Value, a function that builds one, or a formula string with inputs."""
    original = source
    if isinstance(source, str):
        source = value_from_expression(source, **inputs)
    elif inputs:
        raise TypeError("GraphStepper: keyword inputs (w=0.5, ...) only go with an expression string.")
    elif callable(source) and not isinstance(source, Value):
        source = source()
    if not isinstance(source, Value):
        raise TypeError(
            f"GraphStepper needs a Value (the output of an expression), a function returning one, or a "
            f"formula string with its inputs; got {type(original).__name__}. Example: "
            f"GraphStepper('(w * x + b - t) ** 2', w=0.5, x=2.0, b=0.1, t=1.0)."
        )
    return source


def compare_graph(trace, compare: dict) -> list[dict]:
    """One row per compared node, in backward order (the step where its gradient is final).

    Returns [{"name", "node", "step", "yours", "reference", "match"}]; reference is the
    gradient the recorded backward pass left in that node; match allows a relative
    difference of 1e-6 (rounding), nothing more.
    """
    if not isinstance(compare, dict):
        raise TypeError(f"GraphStepper: compare must be a dict {{node name: your gradient}}, got "
                        f"{type(compare).__name__}.")
    names = {n["name"]: n["id"] for n in trace.graph["nodes"]}
    final_step = {e.node: e.index for e in trace if e.phase == "backward"}
    rows = []
    for name, yours in compare.items():
        if name not in names:
            raise KeyError(f"GraphStepper: compare names a node {name!r} the graph does not have; "
                           f"its nodes are {sorted(names)}.")
        if isinstance(yours, bool) or not isinstance(yours, numbers.Real):
            raise TypeError(f"GraphStepper: compare[{name!r}] must be a number (your dL/d{name}), got {yours!r}.")
        node = names[name]
        reference = trace.graph["nodes"][node]["grad"]
        rows.append({"name": name, "node": node, "step": final_step.get(node, len(trace) - 1),
                     "yours": float(yours), "reference": reference,
                     "match": math.isclose(yours, reference, rel_tol=1e-6, abs_tol=1e-9)})
    return sorted(rows, key=lambda row: row["step"])
