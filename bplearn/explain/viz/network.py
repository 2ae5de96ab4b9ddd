"""Draw a multi-layer perceptron as neurons and weighted edges, step by step.

Columns of circles are the layers' activations (input on the left); the lines between
two columns are the weights of a Linear layer (line width ~ |weight|). During the
forward pass the circles show one sample's activations ("PuOr"); during the backward
pass they show that sample's gradient dL/d(activation), and each weight line turns
the colour of dL/dw ("RdBu": red negative, blue positive) once backprop reaches it.
Everything comes from a ``trace_network`` trace.
"""
from __future__ import annotations

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..trace import Trace, fmt
from . import style

MAX_NEURONS = 12     # wider layers show their first 12 neurons


def is_mlp_trace(trace: Trace) -> bool:
    """True if every layer works on (N, features) arrays and every weight is a matrix."""
    return trace.kind == "network" and all(
        np.ndim(e.value) == 2 for e in trace if e.phase == "forward" and e.layer != -1
    ) and all(np.ndim(w) == 2 for n, w in trace.info["params"].items() if n.endswith("weight"))


def _weight_names(trace: Trace) -> list[str]:
    return [n for n, w in trace.info["params"].items() if n.endswith("weight") and np.ndim(w) == 2]


def _centred_scale(values, cmap: str) -> ScalarMappable:
    """A colour scale from -m to m, m = the largest |value|, so 0 is the middle colour."""
    limit = style.symmetric_limit(values)
    return ScalarMappable(Normalize(-limit, limit), cmap)


class MLPView(style.MarkedView):
    """Figure of an MLP trace; ``update(step)`` recolours it for event ``step``.

    sample: which row of the batch the neuron colours show.
    """

    def __init__(self, trace: Trace, fig: Figure | None = None, sample: int = 0):
        if not is_mlp_trace(trace):
            raise ValueError("MLPView draws a trace_network trace of Linear layers and activations "
                             "on (N, features) data; use LayerView for other networks.")
        self.trace, self.sample = trace, sample
        self.figure = style.view_figure(fig, (9, 4.5))
        # Column of each layer's output: a new column after every layer with a weight matrix.
        self.weights = _weight_names(trace)
        weighted = {int(n.split(".")[0]) for n in self.weights}
        self.out_col, col = [], 0
        for i in range(len(trace.info["layers"])):
            col += i in weighted
            self.out_col.append(col)
        sizes = [trace.info["x"].shape[1]] + [trace.info["params"][n].shape[0] for n in self.weights]
        self.shown = [min(s, MAX_NEURONS) for s in sizes]
        self.xy = [np.column_stack([np.full(k, c), (k - 1) / 2 - np.arange(k)]) for c, k in enumerate(self.shown)]
        self._build(sizes)

    def _build(self, sizes: list[int]) -> None:
        fig, trace = self.figure, self.trace
        ax = self.ax = fig.add_axes((0.05, 0.13, 0.66, 0.75))
        ncol = len(self.shown)
        ax.set_xlim(-0.5, ncol - 0.5)
        half = max(self.shown) / 2
        ax.set_ylim(-half - 0.2, half + 0.2)
        ax.set_xticks(range(ncol), ["input x"] + [f"after {n.split('.')[0]}" for n in self.weights])
        ax.set_yticks([])
        ax.set_xlabel("layer (input on the left, output on the right)"
                      + (f"; first {MAX_NEURONS} neurons of wider layers" if max(sizes) > MAX_NEURONS else ""))
        ax.set_ylabel(f"neurons (sample {self.sample})")
        self.band = ax.add_patch(Rectangle((-0.3, -half - 0.1), 0.6, 2 * half + 0.2,
                                           color=style.CURRENT, alpha=0.25, zorder=0))
        final = [g for e in trace for n, g in e.param_grads.items() if n in self.weights]
        acts = [e.value[self.sample] for e in trace if e.phase == "forward" and e.layer != -1]
        back = [e.accumulated_grad[self.sample] for e in trace if e.phase == "backward"]
        self.cmap_grad = _centred_scale(final, style.GRAD_CMAP)
        self.cmap_act = _centred_scale(acts, style.ACT_CMAP)
        self.cmap_back = _centred_scale(back, style.GRAD_CMAP)
        self.lines = []
        for c, name in enumerate(self.weights):
            w = trace.info["params"][name][: self.shown[c + 1], : self.shown[c]]       # (out, in) shown
            a, b = self.xy[c], self.xy[c + 1]
            segs = [(a[k], b[j]) for j in range(w.shape[0]) for k in range(w.shape[1])]  # row-major like w
            widths = 0.4 + 2.6 * np.abs(w).ravel() / max(np.abs(w).max(), 1e-12)
            self.lines.append(ax.add_collection(LineCollection(segs, linewidths=widths, zorder=1)))
        self.dots = ax.scatter(*np.concatenate(self.xy).T, s=260, edgecolors="#333333", zorder=2)
        ax.set_title("MLP: activations forward (PuOr), gradients backward (RdBu)")
        for k, (mappable, label) in enumerate([(self.cmap_grad, "dL/dw (lines)"),
                                               (self.cmap_back, "dL/d activation (circles, backward)"),
                                               (self.cmap_act, "activation (circles, forward)")]):
            cax = fig.add_axes((0.75, 0.78 - 0.28 * k, 0.22, 0.04))
            fig.colorbar(mappable, cax=cax, orientation="horizontal", label=label)
        self.caption = ax.text(0.01, 0.01, "", transform=ax.transAxes, fontsize=8, va="bottom")
        self._add_markers(ax)
        self.dynamic = [self.band, *self.lines, self.dots, self.caption,
                        *(artist for artists in self.markers.values() for artist in artists)]

    def _add_markers(self, ax) -> None:
        """Per mark kind: a thick line (a weight), a ring (a bias) and a caption, empty until marked."""
        self.markers = {kind: (ax.plot([], [], color=colour, linewidth=4.5, linestyle=ls, zorder=1.5)[0],
                               ax.scatter([], [], s=700, facecolors="none", edgecolors=colour, linewidths=3,
                                          linestyles=ls, zorder=3),
                               ax.text(0.01, 0.99 - 0.06 * n, "", transform=ax.transAxes, fontsize=8.5,
                                       va="top", color=colour, fontweight="bold"))
                        for n, (kind, colour, ls) in enumerate(style.MARKER_STYLES)}
        self.marks: dict = {}

    def _draw_marks(self, step: int) -> None:
        for kind, (line, ring, text) in self.markers.items():
            mark = self.marks.get(kind)
            visible = mark is not None and step >= mark[3]
            segment, centre = self._mark_geometry(mark) if visible else (None, None)
            line.set_data(*(zip(*segment) if segment else ([], [])))
            ring.set_offsets(np.array([centre]) if centre is not None else np.empty((0, 2)))
            text.set_text(mark[2] if visible else "")

    def _mark_geometry(self, mark):
        """(line segment or None, ring centre or None) for a marked entry; both None if not drawn."""
        name, index, _, _ = mark
        layer, kind = name.split(".", 1)
        weight = f"{layer}.weight"
        if weight not in self.weights:
            return None, None
        c = self.weights.index(weight)
        j = index[0]
        if j >= self.shown[c + 1]:
            return None, None
        if kind == "bias":
            return None, self.xy[c + 1][j]
        k = index[1]
        return ((self.xy[c][k], self.xy[c + 1][j]) if k < self.shown[c] else None), None

    def _column_states(self, step: int):
        """For each column: (kind, values of the sample) latest up to ``step``."""
        cols = [("forward", self.trace.info["x"][self.sample])] + [(None, None)] * (len(self.shown) - 1)
        grads: dict[str, np.ndarray] = {}
        for e in self.trace.events[: step + 1]:
            if e.phase == "forward" and e.layer != -1:
                cols[self._column(e)] = ("forward", e.value[self.sample])
            elif e.phase == "backward":
                cols[self._column(e)] = ("backward", e.accumulated_grad[self.sample])
                grads.update(e.param_grads)
        return cols, grads

    def _column(self, event) -> int:
        """The column an event writes: a layer's output going forward, its input going backward."""
        if event.layer == -1:
            return self.out_col[-1]
        if event.phase == "forward":
            return self.out_col[event.layer]
        return self.out_col[event.layer - 1] if event.layer > 0 else 0

    def update(self, step: int) -> Figure:
        """Colour neurons and weights as they are after event ``step``; returns the figure."""
        event = self.trace[step]
        cols, grads = self._column_states(step)
        colours = []
        for c, (kind, values) in enumerate(cols):
            k = self.shown[c]
            if kind is None:
                colours.append(np.tile([1.0, 1.0, 1.0, 1.0], (k, 1)))
            else:
                cmap = self.cmap_act if kind == "forward" else self.cmap_back
                colours.append(cmap.to_rgba(values[:k]))
        self.dots.set_facecolors(np.concatenate(colours))
        for c, (name, lines) in enumerate(zip(self.weights, self.lines)):
            if name in grads:
                lines.set_color(self.cmap_grad.to_rgba(grads[name][: self.shown[c + 1], : self.shown[c]].ravel()))
                lines.set_alpha(1.0)
            else:
                lines.set_color("#b0b0b0")
                lines.set_alpha(0.6)
        self.band.set_x(self._column(event) - 0.3)
        self._draw_marks(step)
        loss = next((e.value for e in self.trace.events[: step + 1] if e.layer == -1 and e.phase == "forward"), None)
        self.caption.set_text(f"step {step} of {len(self.trace) - 1}: {event.phase} {event.name}"
                              + ("" if loss is None else f"   |   loss L = {fmt(loss)}"))
        return self.figure


def plot_network(trace: Trace, step: int | None = None, sample: int = 0) -> Figure:
    """Draw an MLP from a ``trace_network`` trace after event ``step`` (default: the last)."""
    view = MLPView(trace, sample=sample)
    return view.update(len(trace) - 1 if step is None else step)
