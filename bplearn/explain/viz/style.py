"""Shared colours and figure helpers for every bplearn plot.

Colours come from the Okabe-Ito palette, which stays distinguishable for the common
kinds of colour blindness; values are mapped with "PuOr" (activations) and "RdBu"
(gradients: red negative, blue positive, white zero), both diverging and both safe.
"""
from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

CURRENT = "#E69F00"     # orange: the step being shown
COMPUTED = "#cfe8f6"    # pale sky blue: forward value known
GRADDONE = "#bfe5d8"    # pale bluish green: gradient known
PENDING = "#ffffff"     # not reached yet
EDGE = "#7f7f7f"        # grey lines
HIGHLIGHT = "#D55E00"   # vermillion: the edge being used
ACT_CMAP = "PuOr"       # activations (diverging, colour-blind safe)
GRAD_CMAP = "RdBu"      # gradients (diverging, colour-blind safe)
NORM_CMAP = "cividis"   # magnitudes such as gradient norms (sequential, colour-blind safe)
# How a view marks one parameter entry: the weight chosen in a menu, and the first place
# where a learner's gradient differs from the reference.  (kind, colour, line style)
MARKER_STYLES = [("selected", CURRENT, "-"), ("difference", HIGHLIGHT, "--")]


def new_figure(figsize: tuple, pyplot: bool = True) -> Figure:
    """A figure of ``figsize`` inches.

    pyplot=True registers it with pyplot (so a notebook shows it and plt.close works);
    widgets pass False: their figure is drawn to PNG bytes and never shown by pyplot.
    """
    if pyplot:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=figsize)
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)                                  # an off-screen canvas to draw on
    return fig


def view_figure(fig: Figure | None, figsize: tuple) -> Figure:
    """The figure a ``*View`` draws on: ``fig`` (e.g. a widget's off-screen one) resized
    to ``figsize`` inches, or a new pyplot figure of that size."""
    if fig is None:
        return new_figure(figsize)
    fig.set_size_inches(*figsize)
    return fig


def figure_and_axes(ax, figsize: tuple):
    """(figure, axes) for a plot function: ``ax`` and its figure when given (to draw into
    a subplot of your own), else a new figure of ``figsize`` inches with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(figsize)
    return fig, fig.add_subplot(111)


def symmetric_limit(values) -> float:
    """max |v| over an iterable of arrays/numbers, never 0 (so a colour scale has a width)."""
    vmax = max((float(np.max(np.abs(v))) for v in values if np.size(v)), default=0.0)
    return vmax if vmax > 0 else 1.0


class StepRenderer:
    """Turn a figure into PNG bytes quickly, again and again, as a widget steps.

    The parts that never change (axes, labels, static lines) are drawn once and kept
    as a bitmap; each ``render()`` pastes that bitmap back and draws only the
    ``dynamic`` artists on top (matplotlib's "blitting"), then encodes a PNG. The
    figure itself stays an ordinary figure: ``fig.savefig`` still draws everything.
    """

    def __init__(self, fig: Figure, dynamic: list | None, dpi: int = 80):
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
        self.fig, self.dynamic, self.dpi = fig, dynamic, dpi     # dynamic=None: redraw everything
        self._background, self._key = None, None

    def render(self) -> bytes:
        from PIL import Image

        fig, canvas = self.fig, self.fig.canvas
        fig.set_dpi(self.dpi)
        key = (tuple(fig.get_size_inches()), self.dpi)
        if self.dynamic is None:
            canvas.draw()
        elif self._background is None or key != self._key:
            for artist in self.dynamic:                    # leave them out of the background
                artist.set_animated(True)
            canvas.draw()
            self._background, self._key = canvas.copy_from_bbox(fig.bbox), key
            for artist in self.dynamic:
                artist.set_animated(False)
        else:
            canvas.restore_region(self._background)
        for artist in self.dynamic or ():
            fig.draw_artist(artist)
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buf = io.BytesIO()
        image.convert("RGB").save(buf, format="png", compress_level=1)   # fast zlib level
        return buf.getvalue()


class MarkedView:
    """Mix-in for network views: remember which parameter entries to mark, and from when."""

    marks: dict

    def mark(self, kind: str, name: str | None, index: tuple = (), label: str = "", from_step: int = 0) -> None:
        """Mark ``name[index]`` in the picture, with ``label`` written beside it, from event ``from_step`` on.

        kind: "selected" (orange: the weight chosen in the menu) or "difference"
        (vermillion, dashed: where a learner's gradient first differs from the reference).
        In an MLP a weight "i.weight"[j, k] is the line from neuron k to neuron j and a
        bias "i.bias"[j] a ring around neuron j; in a CNN a kernel entry (f, 0, i, j) is a
        frame on pixel (i, j) of filter f. name=None removes the mark.
        """
        self.marks[kind] = None if name is None else (name, tuple(index), label, from_step)
