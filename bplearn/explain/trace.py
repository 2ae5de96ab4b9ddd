"""Record a forward and a backward pass as a list of small, numbered events.

A trace is the one source of truth for the step-through widgets and plots: they
show event ``i`` at step ``i`` and never redo any maths themselves. Three recorders:

* ``trace_value(out)``   - a scalar graph of ``Value``s: one forward event per node
  (in topological order), then one backward event per *edge*, recorded by
  ``Value.backward`` itself as it applies ``dL/dparent += dL/dnode * dnode/dparent``;
* ``trace_network(model, x, y, loss_fn)`` - a ``Sequential`` layer by layer: every
  layer's output, the loss, then each layer's backward (gradient in, gradient out
  and a copy of its parameter gradients at that moment);
* ``trace_rnn(rnn, x)``  - an ``RNN`` or ``LSTM`` unrolled in time: the hidden state at every
  step, then the gradient norm ||dL/dh_t|| from the last step back to the first,
  with truncated BPTT and gradient clipping if asked for.

>>> from bplearn.engine import Value
>>> w, x = Value(0.5, "w"), Value(2.0, "x")
>>> t = trace_value(w * x)
>>> print(t[-1].text)
dL/dx = dL/dL · dL/dx = 1 × 0.5 = 0.5
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import Value
from ..errors import ShapeError, as_float_array, check_bptt_steps
from ..nn.lstm import LSTM
from ..nn.rnn import RNN
from ..nn.module import Sequential
from ..optim import clip_grad_norm

__all__ = ["Event", "Trace", "trace_value", "trace_network", "trace_rnn", "fmt", "summarize"]

INFIX = {"+": "+", "-": "-", "*": "×", "/": "/"}     # ops written between their two inputs


def fmt(x: float) -> str:
    """A number as the widgets print it: 4 significant digits (0.5, -0.1, 1.235e-05)."""
    return f"{float(x):.4g}"


def _paren(x: float) -> str:
    """fmt(x), in brackets when negative, for use inside a formula: 2 - (-0.5)."""
    return f"({fmt(x)})" if x < 0 else fmt(x)


def summarize(a) -> str:
    """One line about a value: the number itself, or shape and size of an array."""
    if a is None:
        return "-"
    if np.ndim(a) == 0:
        return fmt(a)
    a = np.asarray(a)
    return f"shape {a.shape}, mean {fmt(a.mean())}, norm {fmt(np.linalg.norm(a))}"


@dataclass
class Event:
    """One step of a pass.

    index: position in the trace; phase: "forward" or "backward".
    name: the node, layer or time step ("w", "2: Linear", "h_3"); op: what it does.
    value: forward output (float, or an array copy of shape (N, ...)).
    local_grad: d node / d parent (backward, scalar graph); in a forward graph event
        the tuple of local derivatives the node stores for later.
    upstream_grad: dL/d(output) arriving at this node or layer.
    accumulated_grad: the gradient after this step: dL/dparent so far (graph),
        dL/d(layer input) (network), ||dL/dh_t|| (rnn).
    param_grads: {parameter name: gradient array copy} known after this step.
    text: the sentence a widget shows for this step.
    node / edge: ids in ``Trace.graph`` for highlighting (scalar graph only);
    layer: layer index (network, -1 for the loss) or time step (rnn).
    """

    index: int
    phase: str
    name: str
    op: str
    value: Any = None
    local_grad: Any = None
    upstream_grad: Any = None
    accumulated_grad: Any = None
    param_grads: dict = field(default_factory=dict)
    text: str = ""
    node: int | None = None
    edge: tuple | None = None
    layer: int | None = None


@dataclass
class Trace:
    """The ordered events of one forward + backward pass.

    kind: "graph", "network" or "rnn". graph: for kind "graph", the nodes and edges
    (see ``trace_value``); info: anything else the plots need (layer names, sizes).
    """

    kind: str
    events: list[Event]
    graph: dict | None = None
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.events)

    def __getitem__(self, i):
        return self.events[i]

    def __iter__(self):
        return iter(self.events)

    @property
    def last_forward(self) -> int:
        """Index of the last forward event (the end of the forward pass)."""
        return max(e.index for e in self.events if e.phase == "forward")

    def summary(self) -> str:
        """Every event's text, one numbered line each."""
        return "\n".join(f"[{e.index:2d}] {e.text}" for e in self.events)

    def graph_state(self, step: int) -> dict:
        """What a scalar-graph picture shows after event ``step``.

        Returns {"computed": set of node ids whose value is known,
                 "grads": {node id: dL/dnode so far}, "node": current node id or None,
                 "edge": current (parent, child) or None}.
        """
        computed, grads = set(), {}
        for e in self.events[: step + 1]:
            if e.phase == "forward":
                computed.add(e.node)
            else:
                grads[e.node] = e.accumulated_grad
        current = self.events[step]
        return {"computed": computed, "grads": grads, "node": current.node, "edge": current.edge}


def _recorder(events: list[Event]):
    """add(**fields): append the next Event, numbered by its position in ``events``."""
    def add(**fields) -> None:
        events.append(Event(index=len(events), **fields))
    return add


# --- scalar graph ---------------------------------------------------------------------------
def _node_names(order: list[Value]) -> list[str]:
    """Labels where given, else n<id>; a repeated label gets its id appended to stay unique."""
    names, used = [], set()
    for i, v in enumerate(order):
        name = v.label if v.label and v.label not in used else f"n{i}"
        used.add(name)
        names.append(name)
    return names


def _forward_text(name: str, v: Value, parents: list[str], values: list[float]) -> str:
    if not v.parents:
        return f"{name} = {fmt(v.data)}  (a leaf: an input, a weight or a constant)"
    op = v.op
    if op in INFIX and len(parents) == 2:
        formula = f"{parents[0]} {op} {parents[1]}"
        numbers = f"{_paren(values[0])} {INFIX[op]} {_paren(values[1])}"
    elif op.startswith("**"):
        formula, numbers = f"{parents[0]}{op}", f"{_paren(values[0])}{op}"
    elif op.endswith("**"):
        formula, numbers = f"{op}{parents[0]}", f"{op}{_paren(values[0])}"
    elif op == "neg":
        formula, numbers = f"-{parents[0]}", f"-({fmt(values[0])})"
    else:
        formula = f"{op}({', '.join(parents)})"
        numbers = f"{op}({', '.join(fmt(x) for x in values)})"
    locals_ = ", ".join(f"d{name}/d{p} = {fmt(g)}" for p, g in zip(parents, v.local_grads))
    return f"{name} = {formula} = {numbers} = {fmt(v.data)};  stored for backward: {locals_}"


def _backward_recorder(add, ids: dict, names: list[str], out_name: str):
    """A ``Value.backward`` recorder that turns each chain-rule step into an Event.

    The numbers (upstream dL/dnode, local dnode/dparent, their product and the parent's
    gradient so far) are read from the engine as it runs, never recomputed here.
    """
    uses = {i: 0 for i in range(len(names))}              # how many edges feed each parent
    for v in ids:
        for p in v.parents:
            uses[ids[p]] += 1
    d = f"d{out_name}/d"

    def record(node: Value, parent, local, share) -> None:
        c = ids[node]
        if parent is None:                                # the seed dL/dL = 1
            add(phase="backward", name=out_name, op="seed", accumulated_grad=node.grad, node=c,
                text=f"start: d{out_name}/d{out_name} = 1  (the output changes one-for-one with itself)")
            return
        j = ids[parent]
        pn, cn = names[j], names[c]
        chain = f"{d}{cn} · d{cn}/d{pn} = {fmt(node.grad)} × {fmt(local)} = {fmt(share)}"
        if uses[j] == 1 and share == parent.grad:
            text = f"{d}{pn} = {chain}"
        else:
            text = f"{d}{pn} += {chain}  (so far {d}{pn} = {fmt(parent.grad)})"
        add(phase="backward", name=pn, op=node.op, local_grad=local, upstream_grad=node.grad,
            accumulated_grad=parent.grad, node=j, edge=(j, c), text=text)
    return record


def trace_value(out: Value, zero_grad: bool = True) -> Trace:
    """Record the forward values and the chain-rule backward pass of a scalar graph.

    out: the output Value (usually the loss L). Its graph was built when the
    expression ran; this function walks it:

    * forward events, one per node in topological order (parents first), value = data;
    * a "seed" event dL/dL = 1, then one backward event per edge parent -> node,
      recorded by ``Value.backward`` as it runs (reverse topological order):
      upstream_grad = dL/dnode, local_grad = dnode/dparent and accumulated_grad =
      dL/dparent after adding their product.

    zero_grad=True (default) first calls ``out.zero_grad()`` so the trace shows one
    clean pass. The events come from ``out.backward(recorder=...)``, so afterwards
    every ``.grad`` in the graph holds the gradients the trace ends with.

    Trace.graph = {"nodes": [{"id", "name", "label", "op", "data", "grad"}],
                   "edges": [(parent_id, child_id, local_grad)]}, ids = topological order.
    """
    if not isinstance(out, Value):
        raise TypeError(
            f"trace_value needs the output Value of an expression, got {type(out).__name__}. "
            f"Build it from Values first, e.g. L = (w * x + b - t) ** 2, then trace_value(L)."
        )
    if zero_grad:
        out.zero_grad()
    order = out.topological_order()
    ids = {v: i for i, v in enumerate(order)}
    names = _node_names(order)
    out_name = names[-1] if order[-1].label else "L"
    names[-1] = out_name
    events: list[Event] = []
    add = _recorder(events)

    for i, v in enumerate(order):
        pnames = [names[ids[p]] for p in v.parents]
        add(phase="forward", name=names[i], op=v.op, value=v.data,
            local_grad=v.local_grads or None, node=i,
            text=_forward_text(names[i], v, pnames, [p.data for p in v.parents]))

    out.backward(recorder=_backward_recorder(add, ids, names, out_name))   # the real pass, recorded
    graph = out.to_graph()
    for node, name in zip(graph["nodes"], names):
        node["name"] = name
    return Trace("graph", events, graph=graph, info={"output": out_name})


# --- a Sequential network, layer by layer -----------------------------------------------------
def layer_names(model: Sequential) -> list[str]:
    """"0: Linear", "1: ReLU", ... (the index matches the parameter names "0.weight")."""
    return [f"{i}: {type(layer).__name__}" for i, layer in enumerate(model.layers)]


def check_network_inputs(model, x, y):
    """Return x, y as arrays, or raise a clear error for a non-Sequential model or mismatched N."""
    if not isinstance(model, Sequential):
        raise TypeError(
            f"expected a Sequential model (nn.Sequential(nn.Linear(2, 4), nn.ReLU(), ...)) so its "
            f"layers can be stepped through one by one, but got {type(model).__name__}. "
            f"Wrap your layers: nn.Sequential(layer1, layer2, ...)."
        )
    x = as_float_array("trace_network", x, "input x")
    y = np.asarray(y)
    if x.ndim < 2:
        raise ShapeError(f"trace_network: x must be a batch of shape (N, features), got shape {x.shape}. "
                         f"For one sample use x[None].")
    if y.ndim == 0 or len(y) != len(x):
        raise ShapeError(
            f"trace_network: x has {len(x)} samples (shape {x.shape}) but y has shape {y.shape}; "
            f"x and y need one row per sample, the same N."
        )
    return x, y


def trace_network(model: Sequential, x, y, loss_fn) -> Trace:
    """Record one forward and backward pass through a Sequential, layer by layer.

    x: (N, ...) inputs, y: (N, ...) targets, loss_fn: a loss object with
    ``loss_fn(pred, y) -> float`` and ``loss_fn.backward() -> dL/dpred``.

    Events: one forward event per layer (value = its output, a copy), a "loss" event,
    a backward "loss" event (accumulated_grad = dL/dpred), then one backward event
    per layer from the last to the first (upstream_grad = dL/d(output),
    accumulated_grad = dL/d(input), param_grads = that layer's gradients, named like
    ``model.named_parameters()``). The model's grads are zeroed first, so after the
    call they hold exactly this pass's gradients.

    Trace.info: "layers" (names), "loss", "x", "y" and "params" {name: weight copy}.
    """
    x, y = check_network_inputs(model, x, y)
    names = layer_names(model)
    events: list[Event] = []
    add = _recorder(events)

    model.zero_grad()
    h = x
    for i, layer in enumerate(model.layers):
        out = layer(h)
        add(phase="forward", name=names[i], op=type(layer).__name__, value=np.array(out), layer=i,
            text=f"forward {names[i]}: input {np.shape(h)} -> output {np.shape(out)}, "
                 f"mean {fmt(np.mean(out))}, min {fmt(np.min(out))}, max {fmt(np.max(out))}")
        h = out
    loss_name = type(loss_fn).__name__
    loss = float(loss_fn(h, y))
    add(phase="forward", name="loss", op=loss_name, value=loss, layer=-1,
        text=f"loss L = {loss_name}(prediction, target) = {fmt(loss)}")
    g = np.array(loss_fn.backward())
    add(phase="backward", name="loss", op=loss_name, accumulated_grad=g, layer=-1,
        text=f"backward {loss_name}: dL/d(prediction) has shape {g.shape}, norm {fmt(np.linalg.norm(g))}")
    for i in reversed(range(len(model.layers))):
        layer = model.layers[i]
        g_in = layer.backward(g)
        params = {f"{i}.{n}": p.grad.copy() for n, p in layer.named_parameters()}
        pg = "".join(f"; ||dL/d{n}|| = {fmt(np.linalg.norm(v))}" for n, v in params.items())
        add(phase="backward", name=names[i], op=type(layer).__name__, upstream_grad=g,
            accumulated_grad=np.array(g_in), param_grads=params, layer=i,
            text=f"backward {names[i]}: dL/d(output) {g.shape} -> dL/d(input) {np.shape(g_in)}, "
                 f"norm {fmt(np.linalg.norm(g_in))}{pg}")
        g = g_in
    return Trace("network", events, info={"layers": names, "loss": loss, "x": x.copy(), "y": y.copy(),
                                          "params": {n: p.data.copy() for n, p in model.named_parameters()}})


# --- an RNN unrolled in time -------------------------------------------------------------------
_KEEP = object()


def _total_grad_norm(module) -> float:
    """sqrt(sum of every parameter's grad²): the one norm gradient clipping caps."""
    return float(np.sqrt(sum(np.sum(p.grad ** 2) for p in module.parameters())))


def _forward_events(add, rnn, hs) -> None:
    """One forward event per time step: the hidden state h_t (a copy, (N, H))."""
    lstm = isinstance(rnn, LSTM)
    for t in range(hs.shape[1]):
        prev = t - 1 if t else "init"
        rule = (f"h_{t}, c_{t} = LSTM gates i, f, g, o of (x_{t}, h_{prev}, c_{prev})" if lstm else
                f"h_{t} = {rnn.nonlinearity}(W_ih x_{t} + W_hh h_{prev} + b)")
        add(phase="forward", name=f"h_{t}", op="lstm step" if lstm else "rnn step", value=hs[:, t].copy(),
            layer=t, text=f"{rule}: mean |h_{t}| = {fmt(np.abs(hs[:, t]).mean())}")


def _bptt_events(add, norms: np.ndarray, k: int | None) -> None:
    """One backward event per time step, last to first: ||dL/dh_t|| as the layer recorded it."""
    T = len(norms)
    for t in reversed(range(T)):
        cut = k is not None and t + 1 < T and (t + 1) % k == 0  # h_t -> h_{t+1} crosses a block edge
        ratio = (f", {fmt(norms[t] / norms[t + 1])}× the step after"
                 if t + 1 < T and norms[t + 1] > 0 and not cut else "")
        text = f"||dL/dh_{t}|| = {fmt(norms[t])}{ratio}"
        if cut:
            text += f"  (truncated BPTT: no gradient crosses from h_{t + 1} back to h_{t})"
        add(phase="backward", name=f"h_{t}", op="bptt step", accumulated_grad=float(norms[t]), layer=t, text=text)


def _run_backward(rnn, grad_out, grad_h_last, k) -> np.ndarray:
    """The layer's own backward with truncation ``k`` for this pass only; returns its (T,) norms."""
    saved = rnn.bptt_steps
    try:
        rnn.bptt_steps = k
        rnn.backward(grad_out, grad_h_last)
    finally:
        rnn.bptt_steps = saved
    return np.array(rnn.grad_norms, dtype=float)           # (T,) ||dL/dh_t||, recorded by the layer


def trace_rnn(rnn, x, h0=None, dh_last=None, dhs=None, bptt_steps=_KEEP, clip_norm=None) -> Trace:
    """Record an RNN's or LSTM's hidden states forward in time and its gradient norms back through time.

    rnn: an nn.RNN or nn.LSTM; x: (N, T, D) sequences, h0: (N, H) or None.
    The loss defaults to depending on the last hidden state only: dL/dh_{T-1} is a constant
    array of total norm 1 (dh_last), and dL/dhs = 0 (dhs), so ||dL/dh_t|| shows how much
    of that unit gradient is left t steps earlier (vanishing < 1 < exploding).
    bptt_steps: None (full BPTT) or k (truncated); by default the layer's own setting.
    clip_norm: if given, ``optim.clip_grad_norm`` caps the parameters' total gradient norm.

    Events: forward "h_t" for t = 0..T-1 (value = hs[:, t]), a backward seed, backward
    "h_t" for t = T-1..0 (accumulated_grad = ||dL/dh_t|| recorded by the layer's own
    backward in ``grad_norms``), and a final "parameters" event with param_grads (after
    clipping) and, in ``Trace.info``, the norm before and after clipping.
    """
    if not isinstance(rnn, (RNN, LSTM)):
        raise TypeError(f"trace_rnn needs an nn.RNN or nn.LSTM layer, got {type(rnn).__name__}.")
    k = rnn.bptt_steps if bptt_steps is _KEEP else check_bptt_steps(bptt_steps)
    events: list[Event] = []
    add = _recorder(events)

    rnn.zero_grad()
    hs = rnn(x, h0)                                       # hs: (N, T, H)
    N, T, H = hs.shape
    _forward_events(add, rnn, hs)
    dh_last = np.full((N, H), 1.0 / np.sqrt(N * H)) if dh_last is None else np.asarray(dh_last)
    dhs = np.zeros_like(hs) if dhs is None else np.asarray(dhs)
    add(phase="backward", name=f"h_{T - 1}", op="seed", upstream_grad=dh_last,
        accumulated_grad=float(np.linalg.norm(dh_last)), layer=T,
        text=f"start: the loss sends dL/dh_{T - 1} with norm {fmt(np.linalg.norm(dh_last))} into the last step")
    norms = _run_backward(rnn, dhs, dh_last, k)
    _bptt_events(add, norms, k)
    before = after = _total_grad_norm(rnn)
    if clip_norm is not None:
        clip_grad_norm(rnn.parameters(), clip_norm)
        after = _total_grad_norm(rnn)
    params = {n: p.grad.copy() for n, p in rnn.named_parameters()}
    clipped = f", clipped to {fmt(after)} (max_norm {fmt(clip_norm)})" if after < before else ""
    add(phase="backward", name="parameters", op="clip" if clip_norm is not None else "sum over time",
        accumulated_grad=after, param_grads=params, layer=-1,
        text=f"parameter gradients summed over all {T} steps: total norm {fmt(before)}{clipped}")
    return Trace("rnn", events, info={"T": T, "bptt_steps": k, "clip_norm": clip_norm, "layer": type(rnn).__name__,
                                      "norm_before_clip": before, "norm_after_clip": after,
                                      "grad_norms": norms})
