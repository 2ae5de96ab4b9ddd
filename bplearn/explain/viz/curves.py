"""Training pictures: loss curves, decision boundaries, gradient norms per layer.

``TrainingView`` keeps one figure with a loss curve and a decision boundary and
updates them in place, so the Playground can redraw it after every epoch.
"""
from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ...errors import NonFiniteError
from ..trace import Trace
from . import style

CLASS_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]   # Okabe-Ito


def _losses(history) -> list[float]:
    """A History / dict with "loss", or a plain list of numbers."""
    losses = history["loss"] if isinstance(history, dict) else history
    return [float(v) for v in losses]


def plot_loss_curve(history, title: str = "Training loss", ax=None) -> Figure:
    """Loss per epoch. history: a ``fit`` History (uses "loss" and "val_loss") or a list."""
    losses = _losses(history)
    if not losses:                                        # before any figure exists, so none is left open
        raise ValueError("plot_loss_curve: the history is empty; train for at least one epoch first.")
    fig, ax = style.figure_and_axes(ax, (5, 3.5))
    epochs = np.arange(1, len(losses) + 1)
    ax.plot(epochs, losses, marker=".", color=CLASS_COLOURS[0], label="training")
    if isinstance(history, dict) and history.get("val_loss"):
        ax.plot(epochs, history["val_loss"], marker=".", color=CLASS_COLOURS[1], label="validation")
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    return fig


def class_grid(model, X, resolution: int = 80):
    """Predicted class on a grid covering X (2-D data): (xs, ys, classes (res, res)).

    Outputs (M, C>1) -> argmax; one output per point -> class 1 where it is > 0
    (a logit), or > 0.5 if the model ends in a Sigmoid.
    """
    from ...train import predict

    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision boundaries need 2-D points, X of shape (N, 2); got {X.shape}.")
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 1e-9
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    xs, ys = np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)     # (res*res, 2)
    out = predict(model, grid)
    if out.ndim == 2 and out.shape[1] > 1:
        classes = out.argmax(axis=1)
    else:
        last = model.layers[-1] if hasattr(model, "layers") else None
        threshold = 0.5 if type(last).__name__ == "Sigmoid" else 0.0
        classes = (out.reshape(-1) > threshold).astype(int)
    return xs, ys, classes.reshape(resolution, resolution)


def plot_decision_boundary(model, X, y, title: str = "Decision boundary", ax=None, resolution: int = 80) -> Figure:
    """Colour the plane by the class the model predicts, with the data points on top.

    X: (N, 2) points, y: (N,) integer labels. Returns the Figure.
    """
    fig, ax = style.figure_and_axes(ax, (4.5, 4))
    xs, ys, classes = class_grid(model, X, resolution)
    k = int(max(classes.max(), np.max(y))) + 1
    cmap = ListedColormap(CLASS_COLOURS[:k])
    ax.imshow(classes, origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), cmap=cmap, vmin=-0.5,
              vmax=k - 0.5, alpha=0.3, aspect="auto", interpolation="nearest")
    ax.scatter(X[:, 0], X[:, 1], c=np.asarray(y), cmap=cmap, vmin=-0.5, vmax=k - 0.5, s=12, edgecolors="#333333",
               linewidths=0.3)
    ax.set_title(title)
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    return fig


def grad_norms_per_layer(source) -> dict[str, float]:
    """{parameter name: ||grad||} from a network Trace (its final gradients) or a model."""
    if isinstance(source, Trace):
        grads: dict[str, np.ndarray] = {}
        for e in source:
            grads.update(e.param_grads)
        order = list(source.info.get("params", grads))                 # input side first
        return {n: float(np.linalg.norm(grads[n])) for n in order if n in grads}
    if hasattr(source, "named_parameters"):
        return {n: float(np.linalg.norm(p.grad)) for n, p in source.named_parameters()}
    return {str(k): float(v) for k, v in dict(source).items()}


def plot_grad_norms(source, title: str = "Gradient norm per layer", ax=None, log: bool = True) -> Figure:
    """Bar chart of ||dL/dθ|| for each parameter, input side on the left.

    source: a network Trace, a model after backward, or {name: norm}. A log scale
    (default) makes vanishing gradients in early layers visible.
    """
    norms = grad_norms_per_layer(source)
    if not norms:
        raise ValueError("plot_grad_norms: no parameter gradients found (did backward run?).")
    fig, ax = style.figure_and_axes(ax, (max(4.0, 0.6 * len(norms) + 2), 3.5))
    names = list(norms)
    ax.bar(range(len(names)), [norms[n] for n in names], color=CLASS_COLOURS[0])
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    if log and all(v > 0 for v in norms.values()):
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel("parameter (input side on the left)")
    ax.set_ylabel("||dL/dθ||" + (" (log scale)" if ax.get_yscale() == "log" else ""))
    fig.tight_layout()
    return fig


class TrainingView:
    """Loss curve and decision boundary in one figure, updated in place while training.

    X: (N, 2) points, y: (N,) labels, classes: number of classes.
    """

    def __init__(self, X, y, classes: int, fig: Figure | None = None, resolution: int = 60):
        self.X, self.y, self.resolution = np.asarray(X, dtype=float), np.asarray(y), resolution
        self.figure = style.view_figure(fig, (9, 3.8))
        self.loss_ax, self.data_ax = self.figure.subplots(1, 2)
        self.loss_line = self.loss_ax.plot([], [], marker=".", color=CLASS_COLOURS[0])[0]
        self.loss_ax.set_title("Training loss")
        self.loss_ax.set_xlabel("epoch")
        self.loss_ax.set_ylabel("loss")
        self.loss_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        cmap = ListedColormap(CLASS_COLOURS[:classes])
        self.regions = self.data_ax.imshow(np.zeros((2, 2)), origin="lower", cmap=cmap, vmin=-0.5,
                                           vmax=classes - 0.5, alpha=0.3, aspect="auto", interpolation="nearest")
        self.data_ax.scatter(self.X[:, 0], self.X[:, 1], c=self.y, cmap=cmap, vmin=-0.5, vmax=classes - 0.5, s=10,
                             edgecolors="#333333", linewidths=0.3)
        self.data_ax.set_title("Decision boundary")
        self.data_ax.set_xlabel("x[0]")
        self.data_ax.set_ylabel("x[1]")
        self.figure.tight_layout()

    def update(self, losses, model, status: str = "") -> Figure:
        """Show ``losses`` (one per epoch so far) and the model's current class regions.

        status: added to the loss plot's title, e.g. "epoch 30, done", so the picture
        alone says where training stands.
        """
        self.loss_ax.set_title("Training loss" + (f": {status}" if status else ""))
        epochs = np.arange(1, len(losses) + 1)
        self.loss_line.set_data(epochs, losses)
        if len(losses):
            finite = [v for v in losses if np.isfinite(v)] or [1.0]
            self.loss_ax.set_xlim(0.5, max(len(losses), 2) + 0.5)
            self.loss_ax.set_ylim(0, max(finite) * 1.05 + 1e-12)
        try:
            xs, ys, classes = class_grid(model, self.X, self.resolution)
        except NonFiniteError:                            # a diverged model predicts nothing: show no regions
            self.regions.set_data(np.ma.masked_all((2, 2)))
            self.data_ax.set_title("Decision boundary: none (the model outputs NaN)")
            return self.figure
        self.data_ax.set_title("Decision boundary")
        self.regions.set_data(classes)
        self.regions.set_extent((xs[0], xs[-1], ys[0], ys[-1]))
        return self.figure
