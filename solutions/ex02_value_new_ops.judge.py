"""Judge spec of exercise 2 (format: docs/exercise_format.md).

The learner writes sin_backward and max_backward for the notebook's small Value class; the
probes build graphs with that class in the sandbox and return the leaves' gradients. On the
judge's side the same graphs are built with the notebook's own Value class and the solution's
(or a typical wrong) backward functions.
"""
import json
import math
from pathlib import Path

import numpy as np

from bplearn.grading.spec import Exercise, Mistake, Mutant, Part, probe

NOTEBOOK = Path(__file__).with_name("ex02_value_new_ops.ipynb")


def sin_backward(ns, a, c):
    """a.grad on four graphs that use sin, for every pair (a, c): shape (len(a), 4)."""
    import numpy as np
    V, rows = ns["Value"], []
    for a0, c0 in zip(a, c):
        x, k = V(a0), V(c0)
        (x.sin() * k).backward()                   # out.grad is c, not 1
        g1 = x.grad
        x, k = V(a0), V(c0)
        (x.sin() + x * k).backward()               # x used twice, sin's backward last or first
        g2 = x.grad
        x, k = V(a0), V(c0)
        (x * k + x.sin()).backward()
        g3 = x.grad
        x = V(a0)
        (x.sin() * x.sin()).backward()             # x feeds two sine nodes
        rows.append([g1, g2, g3, x.grad])
    return np.array(rows, dtype=float)


def max_backward(ns, a, b, c):
    """(a.grad, b.grad) on three graphs that use maximum, for every triple: shape (len(a), 6)."""
    import numpy as np
    V, rows = ns["Value"], []
    for a0, b0, c0 in zip(a, b, c):
        x, y, k = V(a0), V(b0), V(c0)
        (x.maximum(y) * k).backward()
        row = [x.grad, y.grad]
        x, y = V(a0), V(b0)
        (x.maximum(y) + x * y).backward()          # both inputs also feed a product
        row += [x.grad, y.grad]
        x, y = V(a0), V(b0)
        (x * y + x.maximum(y)).backward()
        rows.append(row + [x.grad, y.grad])
    return np.array(rows, dtype=float)


def expression_grads(ns, x, y):
    """The learner's (dL/dx, dL/dy) for every pair: shape (len(x), 2).

    The graph is built with the learner's expression_grads, but with correct sin and max
    backward steps swapped in, so a mistake in parts 1 or 2 does not cost this part too.
    """
    import math
    import numpy as np

    def sin_backward(a, out):
        a.grad += math.cos(a.data) * out.grad

    def max_backward(a, b, out):
        if a.data >= b.data:
            a.grad += out.grad
        else:
            b.grad += out.grad

    theirs = ns.get("sin_backward"), ns.get("max_backward")
    ns["sin_backward"], ns["max_backward"] = sin_backward, max_backward
    try:
        rows = []
        for x0, y0 in zip(x, y):
            answer = ns["expression_grads"](float(x0), float(y0))
            if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
                return answer                       # None or a wrong shape: the judge explains
            rows.append([float(answer[0]), float(answer[1])])
        return np.array(rows)
    finally:
        ns["sin_backward"], ns["max_backward"] = theirs


# --- the judge's side: the notebook's Value class with chosen backward functions ----------------
def _setup_source():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return next("".join(c["source"]) for c in cells
                if c["metadata"].get("nbgrader", {}).get("grade_id") == "ex02-setup")


def _engine(sin_rule, max_rule):
    ns = {"__name__": "ex02_judge"}
    exec(_setup_source(), ns)
    ns["sin_backward"], ns["max_backward"] = sin_rule, max_rule
    return ns


def _sin_right(a, out):
    a.grad += math.cos(a.data) * out.grad


def _sin_overwrites(a, out):
    a.grad = math.cos(a.data) * out.grad


def _sin_of_output(a, out):
    a.grad += math.cos(out.data) * out.grad


def _sin_without_upstream(a, out):
    a.grad += math.cos(a.data)


def _max_right(a, b, out):
    if a.data >= b.data:
        a.grad += out.grad
    else:
        b.grad += out.grad


def _max_to_both(a, b, out):
    a.grad += out.grad
    b.grad += out.grad


def _max_overwrites(a, b, out):
    if a.data >= b.data:
        a.grad = out.grad
    else:
        b.grad = out.grad


def _max_ties_to_b(a, b, out):
    if a.data > b.data:
        a.grad += out.grad
    else:
        b.grad += out.grad


def _max_ties_split(a, b, out):
    if a.data == b.data:
        a.grad += out.grad / 2
        b.grad += out.grad / 2
    else:
        _max_right(a, b, out)


def _sin_case(rng):
    n = 4
    return {"a": rng.uniform(-3, 3, size=n), "c": rng.uniform(-2, 2, size=n)}


def _max_case(rng):
    a, b = rng.normal(size=4), rng.normal(size=4)
    b[0] = a[0]                                   # one tie, which goes to a
    return {"a": a, "b": b, "c": rng.uniform(-2, 2, size=4)}


def _xy_case(rng):
    x, y = rng.normal(size=4), rng.normal(size=4)
    y[0] = x[0]                                   # a tie in max(x, y)
    return {"x": x, "y": y}


def _expected_expression(x, y):
    """dL/dx and dL/dy of L = sin(xy) x + max(x, y) y, derived by hand (ties go to x)."""
    x_wins = x >= y
    dx = np.cos(x * y) * y * x + np.sin(x * y) + np.where(x_wins, y, 0.0)
    dy = np.cos(x * y) * x * x + np.where(x_wins, 0.0, y) + np.maximum(x, y)
    return np.stack([dx, dy], axis=1)


def _sin_with(rule):
    return lambda a, c: sin_backward(_engine(rule, _max_right), a, c)


def _max_with(rule):
    return lambda a, b, c: max_backward(_engine(_sin_right, rule), a, b, c)


EXERCISE = Exercise(
    notebook="ex02_value_new_ops",
    lesson="02",
    visible_seed=202,
    parts=[
        Part("ex02-sin", "a.grad through sin (four small graphs per input)", 3, probe(sin_backward), _sin_case,
             reference=_sin_with(_sin_right),
             mistakes=[Mistake("overwriting instead of accumulating", _sin_with(_sin_overwrites),
                               "use `a.grad += ...`: when a value feeds two operations, both shares must add up."),
                       Mistake("cosine of the output", _sin_with(_sin_of_output),
                               "the local derivative is cos(a.data), the cosine of the INPUT; out.data is sin(a)."),
                       Mistake("upstream gradient ignored", _sin_with(_sin_without_upstream),
                               "multiply the local derivative by out.grad (the chain rule).")]),
        Part("ex02-max", "(a.grad, b.grad) through maximum (three small graphs per input)", 3, probe(max_backward),
             _max_case, reference=_max_with(_max_right),
             mistakes=[Mistake("gradient sent to both inputs", _max_with(_max_to_both),
                               "only the larger input moves the output; the smaller one gets nothing."),
                       Mistake("overwriting instead of accumulating", _max_with(_max_overwrites),
                               "use `+=`: in these graphs the inputs also feed a product."),
                       Mistake("a tie sent to b", _max_with(_max_ties_to_b),
                               "this exercise sends the whole gradient to a when a.data == b.data: use >=."),
                       Mistake("a tie split in half", _max_with(_max_ties_split),
                               "this exercise sends the whole gradient to a when a.data == b.data.")]),
        Part("ex02-expression", "(dL/dx, dL/dy) of sin(x*y)*x + max(x, y)*y", 2, probe(expression_grads), _xy_case,
             reference=_expected_expression,
             hint="build L with Value operations only (no math.sin on .data), call backward() once, return x.grad, y.grad."),
    ],
    mutants=[
        Mutant("sin overwrites", [("a.grad += math.cos(a.data) * out.grad", "a.grad = math.cos(a.data) * out.grad")],
               loses=["ex02-sin"], says={"ex02-sin": "overwriting instead of accumulating"}),
        Mutant("sin uses out.data", [("a.grad += math.cos(a.data) * out.grad", "a.grad += math.cos(out.data) * out.grad")],
               loses=["ex02-sin"], says={"ex02-sin": "cosine of the output"}),
        Mutant("max to both", [("    if a.data >= b.data:\n        a.grad += out.grad\n    else:\n        b.grad += out.grad",
                                "    a.grad += out.grad\n    b.grad += out.grad")],
               loses=["ex02-max"], says={"ex02-max": "gradient sent to both inputs"}),
        Mutant("max overwrites", [("        a.grad += out.grad\n    else:\n        b.grad += out.grad",
                                   "        a.grad = out.grad\n    else:\n        b.grad = out.grad")],
               loses=["ex02-max"], says={"ex02-max": "overwriting instead of accumulating"}),
        Mutant("ties to b", [("if a.data >= b.data:", "if a.data > b.data:")],
               loses=["ex02-max"], says={"ex02-max": "a tie sent to b"}),
        Mutant("expression without the reused x", [("loss = (x * y).sin() * x + x.maximum(y) * y", "loss = (x * y).sin() + x.maximum(y) * y")],
               loses=["ex02-expression"]),
    ],
)
