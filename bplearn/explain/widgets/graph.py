"""GraphStepper: walk through a scalar computational graph, forward then backward."""
from __future__ import annotations

import numbers

from ...engine import Value
from ..trace import trace_value
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
    """

    title = "GraphStepper"

    def __init__(self, value_or_expression, **inputs: float):
        source = value_or_expression
        if isinstance(source, str):
            source = value_from_expression(source, **inputs)
        elif inputs:
            raise TypeError("GraphStepper: keyword inputs (w=0.5, ...) only go with an expression string.")
        elif callable(source) and not isinstance(source, Value):
            source = source()
        if not isinstance(source, Value):
            raise TypeError(
                f"GraphStepper needs a Value (the output of an expression), a function returning one, or a "
                f"formula string with its inputs; got {type(value_or_expression).__name__}. Example: "
                f"GraphStepper('(w * x + b - t) ** 2', w=0.5, x=2.0, b=0.1, t=1.0)."
            )
        self.output = source
        trace = trace_value(source)
        self._start(trace, GraphView(trace, fig=new_figure((8, 4), pyplot=False)))
