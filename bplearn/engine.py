"""Scalar autograd: every number remembers how it was made, so backward can use the chain rule.

A ``Value`` wraps one float. Each operation returns a new Value that stores

* ``parents``     - the Values it was computed from, and
* ``local_grads`` - d(output)/d(parent) for each parent, as plain numbers worked out
                    during the forward pass (for ``y = w * x``: dy/dw = x, dy/dx = w).

``backward()`` then needs no calculus at all. It visits the nodes from the output
back to the inputs (reverse topological order) and applies the chain rule with the
stored numbers,

    dL/dparent += dnode/dparent * dL/dnode        (parent.grad += local * node.grad)

so a learner can read every step, e.g. dL/dw = dL/dy * dy/dw = -0.2 * 1.0.

Ops and their ``op`` names: "+", "-", "*", "/", "**n" (power by a number, e.g. "**2"),
"c**" (a number c to the power of a Value), "neg", "exp", "log", "tanh", "relu",
"sigmoid". Leaves (inputs, weights, constants) have op "".

Why ``+=``, and why ``zero_grad()``
-----------------------------------
A Value used twice (``a * a``, or a weight feeding two neurons) influences the loss
along two paths, and the total derivative is the *sum* of the two path derivatives.
Each path therefore adds its share into ``.grad``; overwriting would keep only the
last path. The same ``+=`` means gradients also pile up across ``backward()`` calls:
the leaves (nodes without parents: inputs and weights) keep what earlier calls left
and receive this call's gradient on top, so calling backward twice doubles them.
(Inner nodes are reset at the start of each call and hold this call's gradient only.)
In training you want each step's gradient alone, so call ``zero_grad()`` (on the loss
or on the model) before every ``backward()``; forgetting it makes the update use the
sum of all earlier gradients, which is the classic "my loss explodes" bug.
"""
from __future__ import annotations

import math
import numbers

from .errors import DTypeError, NonFiniteError, ShapeError
from .nn.init import make_rng

__all__ = ["Value", "Neuron", "Layer", "MLP"]


class Value:
    """One scalar in a computational graph: ``data`` (float) and ``grad`` (dL/d this value).

    >>> w, x = Value(0.5, "w"), Value(2.0, "x")
    >>> y = w * x            # y.op == "*", y.parents == (w, x), y.local_grads == (2.0, 0.5)

    The keyword-only ``op``, ``parents`` and ``local_grads`` are filled in by the
    operations below; inputs and weights leave them empty.
    """

    __array_ufunc__ = None  # so numpy scalars on the left (np.float64(2) * v) defer to our ops

    def __init__(self, data, label: str = "", *, op: str = "", parents: tuple = (), local_grads: tuple = ()):
        if isinstance(data, Value) or not isinstance(data, numbers.Real):
            raise DTypeError(
                f"Value(data) needs a plain real number such as 0.5 or 3, but got "
                f"{type(data).__name__} {data!r}. Convert it first, e.g. Value(float(x))."
            )
        if not math.isfinite(data):
            raise NonFiniteError(_non_finite_message(data, label, op, parents))
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self.op = op
        self.parents = tuple(parents)
        self.local_grads = tuple(float(g) for g in local_grads)  # d self / d parents[i]

    def _name(self) -> str:
        return f"'{self.label}'" if self.label else "the Value"

    # --- binary ops: forward value and local derivatives side by side ------------------
    def __add__(self, other):
        other = _as_value(other)                 # d(a+b)/da = 1, d(a+b)/db = 1
        return Value(self.data + other.data, op="+", parents=(self, other), local_grads=(1.0, 1.0))

    def __sub__(self, other):
        other = _as_value(other)                 # d(a-b)/da = 1, d(a-b)/db = -1
        return Value(self.data - other.data, op="-", parents=(self, other), local_grads=(1.0, -1.0))

    def __mul__(self, other):
        other = _as_value(other)                 # d(ab)/da = b, d(ab)/db = a
        return Value(self.data * other.data, op="*", parents=(self, other), local_grads=(other.data, self.data))

    def __truediv__(self, other):
        other = _as_value(other)
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(
                f"division by zero: {other._name()} in the denominator is 0.0 (numerator {a!r}). "
                f"Check the denominator, or add a small constant to it."
            )
        return Value(a / b, op="/", parents=(self, other), local_grads=(1.0 / b, -a / b**2))  # d/da, d/db

    def __pow__(self, n):
        if isinstance(n, Value) or not isinstance(n, numbers.Real):
            raise TypeError(
                f"Value ** n needs a plain number n (e.g. x**2), got {type(n).__name__}. "
                f"For x**y with both Values use (y * x.log()).exp()."
            )
        a = self.data
        if a < 0 and not float(n).is_integer():
            raise ValueError(f"{self._name()} = {a!r} is negative, so {a!r}**{n} is not a real number.")
        if a == 0 and n < 1 and n != 0:
            raise ZeroDivisionError(f"{self._name()} is 0.0: x**{n} or its derivative is infinite at x = 0.")
        local = 0.0 if n == 0 else n * a ** (n - 1)  # d(a**n)/da = n * a**(n-1)
        return Value(a**n, op=f"**{n:g}", parents=(self,), local_grads=(local,))

    def __rpow__(self, base):
        if not isinstance(base, numbers.Real):
            return NotImplemented
        if base <= 0:
            raise ValueError(f"c ** Value needs a positive number c (its log is used), got {base!r}.")
        out = base**self.data                    # d(c**x)/dx = c**x * ln(c)
        return Value(out, op=f"{base:g}**", parents=(self,), local_grads=(out * math.log(base),))

    # numbers on the left: 2 + v, 2 - v, 2 * v, 2 / v
    def __radd__(self, other):
        return _as_value(other) + self

    def __rsub__(self, other):
        return _as_value(other) - self

    def __rmul__(self, other):
        return _as_value(other) * self

    def __rtruediv__(self, other):
        return _as_value(other) / self

    # --- unary ops -----------------------------------------------------------------------
    def __neg__(self):
        return Value(-self.data, op="neg", parents=(self,), local_grads=(-1.0,))  # d(-a)/da = -1

    def exp(self):
        out = math.exp(self.data)                # d(e^a)/da = e^a
        return Value(out, op="exp", parents=(self,), local_grads=(out,))

    def log(self):
        a = self.data
        if a <= 0:
            raise ValueError(
                f"log needs a positive input, but {self._name()} = {a!r}. The natural log is only "
                f"defined for numbers > 0; clip the input or add a small constant (e.g. 1e-12)."
            )
        return Value(math.log(a), op="log", parents=(self,), local_grads=(1.0 / a,))  # d(ln a)/da = 1/a

    def tanh(self):
        t = math.tanh(self.data)                 # d(tanh a)/da = 1 - tanh(a)^2
        return Value(t, op="tanh", parents=(self,), local_grads=(1.0 - t * t,))

    def relu(self):
        a = self.data                            # slope 1 for a > 0, else 0 (0 at the kink, like torch)
        return Value(max(a, 0.0), op="relu", parents=(self,), local_grads=(1.0 if a > 0 else 0.0,))

    def sigmoid(self):
        a = self.data
        if a >= 0:                               # exp(-a) <= 1: cannot overflow
            s = 1.0 / (1.0 + math.exp(-a))
        else:                                    # same formula times e^a/e^a: exp(a) < 1
            e = math.exp(a)
            s = e / (1.0 + e)
        return Value(s, op="sigmoid", parents=(self,), local_grads=(s * (1.0 - s),))  # s' = s(1-s)

    # --- the graph -------------------------------------------------------------------------
    def topological_order(self) -> list["Value"]:
        """Every node this Value depends on, parents before children, ending with self.

        Iterative depth-first search with an explicit stack (no recursion), so graphs
        of any depth work. The first time a node is popped it goes back on the stack
        with its parents above it; the second time, all its parents are already in
        ``order``, so it is appended. Ids in ``to_graph`` are positions in this list.
        """
        order, seen = [], set()
        stack = [(self, False)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
            elif node not in seen:
                seen.add(node)
                stack.append((node, True))
                stack.extend((p, False) for p in reversed(node.parents))  # first parent on top
        return order

    def backward(self, recorder=None) -> None:
        """Fill ``.grad`` of every node with d(self)/d(node) by the chain rule.

        Leaves accumulate across calls (see the module docstring): zero_grad() first.

        recorder: optional ``recorder(node, parent, local, share)``, called right after
        each chain-rule step ``parent.grad += local * node.grad`` (share = that product;
        parent.grad already includes it), and once at the start as
        ``recorder(self, None, None, 1.0)`` for the seed dL/dL = 1. The step-through
        widgets record their trace this way, so they show exactly these numbers.
        """
        order = self.topological_order()
        for node in order:
            if node.parents:                     # inner nodes: this call's gradient only
                node.grad = 0.0
        self.grad = 1.0                          # dL/dL = 1
        if recorder is not None:
            recorder(self, None, None, 1.0)
        for node in reversed(order):             # children before parents
            for parent, local in zip(node.parents, node.local_grads):
                share = local * node.grad
                parent.grad += share             # dL/dparent += dnode/dparent * dL/dnode
                if recorder is not None:
                    recorder(node, parent, local, share)

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0 on every node of this Value's graph, leaves included."""
        for node in self.topological_order():
            node.grad = 0.0

    def to_graph(self) -> dict:
        """The graph as plain data for plots and widgets (no graphviz).

        Returns {"nodes": [{"id", "label", "op", "data", "grad"}, ...] in topological
        order, id = position in that order; "edges": [(parent_id, child_id, local_grad)]}.
        A parent used twice by one node (a * a) gives two edges.
        """
        order = self.topological_order()
        ids = {node: i for i, node in enumerate(order)}
        nodes = [{"id": i, "label": n.label, "op": n.op, "data": n.data, "grad": n.grad} for i, n in enumerate(order)]
        edges = [(ids[p], ids[n], g) for n in order for p, g in zip(n.parents, n.local_grads)]
        return {"nodes": nodes, "edges": edges}

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={_short(self.data)}, grad={_short(self.grad)}{label})"


def _non_finite_message(data, label: str, op: str, parents) -> str:
    """Why a Value refused ``data`` (NaN or inf), and what to do about it."""
    if op:
        inputs = ", ".join(_short(p.data) for p in parents)
        return (f"the result of '{op}' on ({inputs}) is {float(data)!r}, not a finite number, so its gradient "
                f"would be meaningless. Use smaller inputs (or a smaller learning rate) to stay in range.")
    name = f" {label!r}" if label else ""
    return (f"Value{name} got {float(data)!r}: a Value must be a finite number (not NaN or inf), "
            f"because every gradient computed from it would be NaN or inf too.")


def _as_value(x) -> Value:
    return x if isinstance(x, Value) else Value(x)


def _short(x: float) -> str:
    return repr(float(f"{x:.6g}"))  # 6 significant digits, still looks like a float: 0.8, 2.0, 1e-09


# --- a small multi-layer perceptron built from Values ---------------------------------------
class _ScalarModule:
    def parameters(self) -> list[Value]:  # pragma: no cover - abstract
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Reset every parameter gradient; call before each backward()."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(_ScalarModule):
    """y = f(w . x + b) for one neuron with ``nin`` inputs.

    x: list of nin numbers or Values -> Value.  nonlin: "tanh", "relu" or "linear".
    Weights start uniform in (-1, 1) from ``rng`` (seed or Generator), bias at 0.
    """

    ACTIVATIONS = ("tanh", "relu", "linear")

    def __init__(self, nin: int, nonlin: str = "tanh", rng=None, name: str = "N"):
        if nonlin not in self.ACTIVATIONS:
            raise ValueError(f"unknown nonlin {nonlin!r}; choose one of {self.ACTIVATIONS}")
        if nin < 1:
            raise ValueError(f"Neuron {name} needs at least one input, got nin={nin}.")
        rng = make_rng(rng)
        self.name, self.nonlin = name, nonlin
        self.w = [Value(float(wi), f"{name}.w{i}") for i, wi in enumerate(rng.uniform(-1.0, 1.0, nin))]
        self.b = Value(0.0, f"{name}.b")

    def __call__(self, x):
        if len(x) != len(self.w):
            raise ShapeError(f"Neuron {self.name} expected {len(self.w)} inputs but got {len(x)}.")
        z = self.b
        for wi, xi in zip(self.w, x):
            z = z + wi * xi
        z.label = f"{self.name}.z"
        if self.nonlin == "linear":
            return z
        out = z.tanh() if self.nonlin == "tanh" else z.relu()
        out.label = f"{self.name}.a"
        return out

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, nonlin={self.nonlin!r})"


class Layer(_ScalarModule):
    """``nout`` neurons reading the same inputs: x: list of nin -> list of nout Values."""

    def __init__(self, nin: int, nout: int, nonlin: str = "tanh", rng=None, name: str = "L0"):
        rng = make_rng(rng)                      # one Generator for all: an int seed passed on would
                                                 # give every neuron the same starting weights
        self.neurons = [Neuron(nin, nonlin, rng, f"{name}.N{j}") for j in range(nout)]

    def __call__(self, x) -> list[Value]:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer(nin={len(self.neurons[0].w)}, nout={len(self.neurons)}, nonlin={self.neurons[0].nonlin!r})"


class MLP(_ScalarModule):
    """Layers of sizes ``nouts``; hidden layers use ``nonlin``, the last one is linear.

    x: list of nin numbers -> one Value if nouts[-1] == 1, else a list of nouts[-1] Values.
    Weights are labelled "L<layer>.N<neuron>.w<input>" and biases "L<layer>.N<neuron>.b".
    """

    def __init__(self, nin: int, nouts: list[int], nonlin: str = "tanh", rng=None):
        rng = make_rng(rng)                      # one Generator for all layers (see Layer)
        sizes = [nin] + list(nouts)
        self.layers = [
            Layer(sizes[i], sizes[i + 1], nonlin if i < len(nouts) - 1 else "linear", rng, f"L{i}")
            for i in range(len(nouts))
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return "MLP([" + ", ".join(map(repr, self.layers)) + "])"
