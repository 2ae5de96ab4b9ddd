"""Feature maps and kernel gradients of a convolutional network, from a trace.

``LayerView`` works for any ``trace_network`` trace (CNNs in particular): a strip of
boxes, one per layer, shows where the pass is; below it up to eight panels show the
current event's arrays: the feature maps of one image going forward, and going
backward the gradient of the conv kernels (dL/dW) or of the feature maps (dL/dx).
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from ..trace import Trace, fmt
from . import style

PANELS = 8           # at most this many channels / filters are shown


def _as_maps(a: np.ndarray) -> np.ndarray:
    """(C, H, W) maps, (F,) vectors as one 1 x F strip, (F, C, kh, kw) kernels as F maps of channel 0."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 4:
        return a[:, 0]
    if a.ndim == 1:
        return a[None, None, :]
    return a


def plot_feature_maps(maps, title: str = "Feature maps", cmap: str = style.ACT_CMAP) -> Figure:
    """Show up to 8 channels of maps: (C, H, W) for one image (or (N, C, H, W): the first).

    Returns the Figure; colours are symmetric around 0 and shared by all panels.
    """
    maps = np.asarray(maps, dtype=float)
    if maps.ndim == 4:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"plot_feature_maps expects (C, H, W) or (N, C, H, W) maps, got shape {maps.shape}.")
    return _grid(maps, title, "channel", cmap)


def plot_kernels(kernels, title: str = "Kernels", channel: int = 0, cmap: str = style.GRAD_CMAP) -> Figure:
    """Show up to 8 filters of a conv weight or its gradient: (F, C, kh, kw), one input channel."""
    kernels = np.asarray(kernels, dtype=float)
    if kernels.ndim != 4:
        raise ValueError(f"plot_kernels expects a conv weight of shape (F, C, kh, kw), got shape {kernels.shape}.")
    return _grid(kernels[:, channel], f"{title} (input channel {channel})", "filter", cmap)


def _grid(maps: np.ndarray, title: str, what: str, cmap: str) -> Figure:
    k = min(len(maps), PANELS)
    fig = style.new_figure((1.8 * k + 1.2, 2.4))
    axes = fig.subplots(1, k, squeeze=False)[0]
    vmax = style.symmetric_limit(maps[:k])
    for c, ax in enumerate(axes):
        im = ax.imshow(maps[c], cmap=cmap, vmin=-vmax, vmax=vmax)
        ax.set_title(f"{what} {c}", fontsize=9)
        ax.set_xlabel("x (pixels)", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].set_ylabel("y (pixels)", fontsize=8)
    fig.colorbar(im, ax=list(axes), shrink=0.8)
    fig.suptitle(title)
    return fig


class LayerView(style.MarkedView):
    """Figure of any network trace: layer strip on top, arrays of the current step below.

    sample: which image of the batch the feature maps show.
    """

    def __init__(self, trace: Trace, fig: Figure | None = None, sample: int = 0):
        if trace.kind != "network":
            raise ValueError(f"LayerView draws a trace_network trace, got a {trace.kind!r} trace.")
        self.trace, self.sample = trace, sample
        self.figure = style.view_figure(fig, (9, 5))
        names = trace.info["layers"] + ["loss"]
        top = self.top = self.figure.add_axes((0.02, 0.72, 0.96, 0.2))
        top.set_xlim(-0.5, len(names) - 0.5)
        top.set_ylim(-0.5, 0.5)
        top.axis("off")
        top.set_title("Network: layers left to right; forward fills them in, backward returns")
        self.boxes, self.box_labels, shapes = [], [], self._output_shapes()
        for i, name in enumerate(names):
            box = FancyBboxPatch((i - 0.45, -0.4), 0.9, 0.8, boxstyle="round,pad=0.02", fc=style.PENDING,
                                 ec="#333333")
            top.add_patch(box)
            self.boxes.append(box)
            self.box_labels.append(top.text(i, 0, f"{name}\n{shapes[i]}", ha="center", va="center", fontsize=8))
        self.panels = []
        for k in range(PANELS):
            ax = self.figure.add_axes((0.02 + 0.12 * k, 0.1, 0.105, 0.45))
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("width", fontsize=7)
            ax.set_ylabel("height" if k == 0 else "", fontsize=7)
            image = ax.imshow(np.zeros((2, 2)), cmap=style.ACT_CMAP, aspect="auto")
            self.panels.append((ax, image, ax.set_title("", fontsize=8)))
        self.caption = self.figure.text(0.5, 0.6, "", ha="center", fontsize=9)
        self.frames = {kind: [ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, ec=colour, lw=3, ls=ls,
                                                     visible=False)) for ax, _, _ in self.panels]
                       for kind, colour, ls in style.MARKER_STYLES}
        self.mark_texts = {kind: self.figure.text(0.02, 0.97 - 0.04 * n, "", fontsize=8.5, color=colour,
                                                  fontweight="bold", va="top")
                           for n, (kind, colour, _) in enumerate(style.MARKER_STYLES)}
        self.marks: dict = {}
        self.dynamic = [*self.boxes, *self.box_labels, *(ax for ax, _, _ in self.panels), self.caption,
                        *self.mark_texts.values()]
        self.figure.text(0.5, 0.01, "panels: one image's feature maps (forward, PuOr) or gradients "
                                    "(backward, RdBu)", ha="center", fontsize=8)

    def _draw_marks(self, step: int, shown: str | None) -> None:
        """Place the frames for the kernel gradient ``shown`` now (None: panels show no kernel)."""
        for kind, frames in self.frames.items():
            mark = self.marks.get(kind)
            visible = mark is not None and step >= mark[3]
            self.mark_texts[kind].set_text(mark[2] if visible else "")
            target = None
            if visible and mark[0] == shown and len(mark[1]) == 4 and mark[1][1] == 0 and mark[1][0] < PANELS:
                target = mark[1]
            for f, frame in enumerate(frames):
                frame.set_visible(target is not None and f == target[0])
                if target is not None and f == target[0]:
                    frame.set_xy((target[3] - 0.5, target[2] - 0.5))

    def _output_shapes(self) -> list[str]:
        forward = [e for e in self.trace if e.phase == "forward"]
        return [str(np.shape(e.value)[1:]) if e.layer != -1 else "scalar" for e in forward]

    def _arrays(self, event) -> tuple[np.ndarray, str, str, str]:
        """(maps (K, H, W), panel label, colour map, caption) for one event."""
        if event.phase == "forward":
            if event.layer == -1:
                return np.zeros((0, 1, 1)), "", style.ACT_CMAP, f"loss = {fmt(event.value)}"
            return (_as_maps(event.value[self.sample]), "channel", style.ACT_CMAP,
                    f"{event.name}: output of image {self.sample}")
        name = self._kernel_shown(event)
        if name is not None:
            return (_as_maps(event.param_grads[name]), "dL/dW filter", style.GRAD_CMAP,
                    f"{event.name}: kernel gradients dL/d{name}, channel 0")
        return (_as_maps(event.accumulated_grad[self.sample]), "dL/dx channel", style.GRAD_CMAP,
                f"{event.name}: gradient sent to the layer below, image {self.sample}")

    @staticmethod
    def _kernel_shown(event) -> str | None:
        """The conv weight whose gradient the panels show for a backward event, if any."""
        if event.phase != "backward":
            return None
        return next((n for n, g in event.param_grads.items() if n.endswith("weight") and np.ndim(g) == 4), None)

    def update(self, step: int) -> Figure:
        """Show the layer strip and the arrays of event ``step``; returns the figure."""
        event = self.trace[step]
        current = len(self.boxes) - 1 if event.layer == -1 else event.layer
        reached_back = {e.layer for e in self.trace.events[: step + 1] if e.phase == "backward"}
        reached_fwd = {e.layer for e in self.trace.events[: step + 1] if e.phase == "forward"}
        for i, box in enumerate(self.boxes):
            layer = -1 if i == len(self.boxes) - 1 else i
            colour = (style.GRADDONE if layer in reached_back
                      else style.COMPUTED if layer in reached_fwd else style.PENDING)
            box.set_facecolor(style.CURRENT if i == current else colour)
        maps, label, cmap, caption = self._arrays(event)
        vmax = style.symmetric_limit(maps[:PANELS])
        for k, (ax, image, title) in enumerate(self.panels):
            ax.set_visible(k < len(maps))
            if k < len(maps):
                image.set_data(maps[k])
                image.set_extent((-0.5, maps[k].shape[1] - 0.5, maps[k].shape[0] - 0.5, -0.5))
                ax.set_aspect("equal" if maps[k].shape[0] > 1 else "auto")   # a 1 x F strip fills the panel
                image.set_cmap(cmap)
                image.set_clim(-vmax, vmax)
                title.set_text(f"{label} {k}" if maps[k].shape[0] > 1 else f"vector of {maps[k].shape[1]}")
        self.caption.set_text(f"step {step} of {len(self.trace) - 1}: {caption} (colour range ±{fmt(vmax)})")
        self._draw_marks(step, self._kernel_shown(event))
        return self.figure


def plot_layers(trace: Trace, step: int | None = None, sample: int = 0) -> Figure:
    """Draw any network trace (e.g. a CNN) after event ``step`` (default: the last)."""
    view = LayerView(trace, sample=sample)
    return view.update(len(trace) - 1 if step is None else step)
