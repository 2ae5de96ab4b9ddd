"""An RNN or LSTM unrolled in time, with the gradient norm reaching each step, from a trace.

Top: one box per hidden state h_0 ... h_{T-1}, arrows for the recurrence; dashed lines
mark where truncated BPTT cuts the gradient. Bottom: a bar per step with ||dL/dh_t||
on a log scale, filled in as the backward pass walks from the last step to the first,
so vanishing (bars shrinking to the left) and exploding (growing) gradients are seen.
"""
from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from ..trace import Trace, fmt
from . import style

NO_GRAD = "#d9d9d9"      # grey: truncated BPTT sent no gradient to this step


class RNNView:
    """Figure of a ``trace_rnn`` trace; ``update(step)`` shows it after event ``step``."""

    def __init__(self, trace: Trace, fig: Figure | None = None):
        if trace.kind != "rnn":
            raise ValueError(f"RNNView draws a trace_rnn trace, got a {trace.kind!r} trace.")
        self.trace = trace
        T = self.T = trace.info["T"]
        self.figure = style.view_figure(fig, (9, 4.8))
        top = self._unrolled_strip(trace, T)
        k = trace.info["bptt_steps"]
        ax = self.ax = self.figure.add_axes((0.08, 0.12, 0.88, 0.42))
        norms = np.asarray(trace.info["grad_norms"], dtype=float)
        positive = norms[norms > 0]
        low, high = (positive.min(), positive.max()) if positive.size else (0.1, 1.0)
        self.colour_norm = LogNorm(low, max(high, 1.001 * low))      # bar and box colours
        ax.set_yscale("log")
        self.floor = low / 3                                          # bar height meaning "nothing yet"
        ax.set_ylim(self.floor, high * 3)
        ax.set_xlim(-0.6, T - 0.4)
        ax.set_xlabel("time step t")
        ax.set_ylabel("||dL/dh_t|| (log scale)")
        self.bars = ax.bar(np.arange(T), np.full(T, self.floor), color=style.COMPUTED, edgecolor="#333333")
        if k:
            for edge in range(k, T, k):                    # the gradient does not cross these lines
                for a in (top, ax):
                    a.axvline(edge - 0.5, color=style.HIGHLIGHT, linestyle="--", linewidth=1.2)
        self.caption = ax.text(0.01, 0.95, "", transform=ax.transAxes, va="top", fontsize=8)
        self.cmap = colormaps[style.NORM_CMAP]
        self.dynamic = [*self.boxes, *self.texts, *self.bars, self.caption]

    def _unrolled_strip(self, trace: Trace, T: int):
        """The top axes: one box per hidden state, arrows between them, the settings as title."""
        top = self.figure.add_axes((0.08, 0.66, 0.88, 0.24))
        top.set_xlim(-0.6, T - 0.4)
        top.set_ylim(-0.5, 0.5)
        top.axis("off")
        k, clip = trace.info["bptt_steps"], trace.info.get("clip_norm")
        top.set_title(f"{trace.info.get('layer', 'RNN')} unrolled in time"
                      + (f" (truncated BPTT, blocks of {k} steps" if k else " (full BPTT")
                      + (f"; gradients clipped to norm {fmt(clip)})" if clip is not None else "; no clipping)"))
        self.boxes, self.texts = [], []
        for t in range(T):
            box = FancyBboxPatch((t - 0.35, -0.3), 0.7, 0.6, boxstyle="round,pad=0.02", fc=style.PENDING, ec="#333333")
            top.add_patch(box)
            self.boxes.append(box)
            self.texts.append(top.text(t, 0, f"h_{t}", ha="center", va="center", fontsize=8 if T <= 20 else 6))
            if t:
                top.annotate("", xy=(t - 0.37, 0), xytext=(t - 0.63, 0),
                             arrowprops=dict(arrowstyle="-|>", color=style.EDGE))
        return top

    def update(self, step: int) -> Figure:
        """Show the unrolled RNN as it is after event ``step``; returns the figure."""
        event = self.trace[step]
        norms = {e.layer: e.accumulated_grad for e in self.trace.events[: step + 1]
                 if e.phase == "backward" and e.op == "bptt step"}
        computed = {e.layer for e in self.trace.events[: step + 1] if e.phase == "forward"}
        cmap, lognorm = self.cmap, self.colour_norm
        for t, (box, bar) in enumerate(zip(self.boxes, self.bars)):
            if t in norms and norms[t] > 0:
                box.set_facecolor(cmap(lognorm(norms[t])))
                bar.set_facecolor(cmap(lognorm(norms[t])))
                bar.set_height(norms[t])
            else:                                          # no gradient yet, or none at all (truncated)
                box.set_facecolor(NO_GRAD if t in norms else style.COMPUTED if t in computed else style.PENDING)
                bar.set_height(self.floor)
            self.texts[t].set_text(f"h_{t}" + ("\nno grad" if norms.get(t, 1.0) == 0 else ""))
            dark = t in norms and norms[t] > 0 and lognorm(norms[t]) < 0.45   # cividis is dark at the low end
            self.texts[t].set_color("white" if dark else "black")
            box.set_linewidth(3.0 if t == event.layer else 1.0)
            box.set_edgecolor(style.CURRENT if t == event.layer else "#333333")
        text = f"step {step} of {len(self.trace) - 1}: {event.text}"
        self.caption.set_text(text if len(text) < 110 else text[:107] + "...")
        return self.figure


def plot_rnn(trace: Trace, step: int | None = None) -> Figure:
    """Draw an unrolled RNN trace after event ``step`` (default: the last)."""
    view = RNNView(trace)
    return view.update(len(trace) - 1 if step is None else step)
