"""TangentExplorer: nudge x, watch f(x) and the tangent line whose slope is f'(x)."""
from __future__ import annotations

import math
from numbers import Real

import numpy as np

from ..trace import fmt
from ..viz.style import StepRenderer, new_figure
from .base import TEXT_CLASS, ControlSync, TextFallback, html_text

CURVE_POINTS = 200


class TangentExplorer(TextFallback):
    """The curve of ``f``, the point (x₀, f(x₀)) and the tangent y = f(x₀) + f'(x₀)·(x − x₀).

    f: a function of one number (numpy-friendly, e.g. ``lambda x: x**3 - 3*x``);
    df: its derivative, or None to estimate the slope by central differences;
    x: the starting x₀; x_range: (low, high) of the slider and the plot;
    y_range: (low, high) of the plot, or None to fit the curve; step: the slider step;
    name: how the text names the function, e.g. "x³ − 3x".

    Plain Python: ``set_x(x)``, ``state`` ({"x", "f", "slope", "text"}), ``text()``,
    ``figure``, ``summary()``. In Jupyter: a slider for x₀ (drag it, or focus it and use
    the arrow keys), the numbers as text and the picture, all drawn from x₀.
    """

    title = "TangentExplorer"

    def __init__(self, f, df=None, x: float = 0.0, x_range: tuple = (-3.0, 3.0), y_range: tuple | None = None,
                 step: float = 0.05, name: str = "f(x)"):
        if not callable(f) or (df is not None and not callable(df)):
            raise TypeError("TangentExplorer needs functions: TangentExplorer(f, df, x=1.5), e.g. "
                            "f = lambda x: x**3 - 3*x and df = lambda x: 3*x**2 - 3.")
        self.low, self.high = _interval("x_range", x_range)
        if not (isinstance(step, Real) and 0 < step <= self.high - self.low):
            raise ValueError(f"TangentExplorer: step must be a positive number no larger than the x range, "
                             f"got {step!r}.")
        self.f, self.df, self.step, self.name = f, df, float(step), name
        self.y_range = None if y_range is None else _interval("y_range", y_range)
        self._widget = None
        self._sync = ControlSync()
        self._figure = new_figure((6, 4), pyplot=False)
        self._draw_axes()
        self.set_x(x)

    # --- the state: x₀ and what follows from it --------------------------------------------------
    def set_x(self, x: float) -> None:
        """Move the point to x₀ = x (inside x_range) and redraw text, picture and slider."""
        if isinstance(x, bool) or not isinstance(x, Real) or not self.low <= x <= self.high:
            raise ValueError(f"TangentExplorer: x must be a number from {self.low:g} to {self.high:g}, got {x!r}.")
        self.x = float(x)
        self._show()

    def slope(self, x: float) -> float:
        """f'(x) from ``df``, or the central difference (f(x+h) - f(x-h)) / 2h with h = 1e-5."""
        if self.df is not None:
            return float(self.df(x))
        h = 1e-5
        return (float(self.f(x + h)) - float(self.f(x - h))) / (2 * h)

    @property
    def state(self) -> dict:
        """{"x": x₀, "f": f(x₀), "slope": f'(x₀), "text": what the widget shows}."""
        return {"x": self.x, "f": float(self.f(self.x)), "slope": self.slope(self.x), "text": self.text()}

    def text(self) -> str:
        """x₀, f(x₀) and f'(x₀), and the tangent's equation."""
        x, y, m = self.x, float(self.f(self.x)), self.slope(self.x)
        how = "" if self.df is not None else " (estimated by central differences)"
        shift = f"x − {fmt(x)}" if x >= 0 else f"x + {fmt(-x)}"
        slope = fmt(m) if m >= 0 else f"({fmt(m)})"
        return (f"x₀ = {x:.2f}   f(x₀) = {y:.3f}   f'(x₀) = {m:.3f}{how}\n"
                f"tangent: y = {fmt(y)} + {slope}·({shift})")

    def summary(self) -> str:
        """What the widget shows, as plain text (for readers without a kernel)."""
        return (f"{self.title}: f(x) = {self.name} for x from {self.low:g} to {self.high:g}; drag x₀ to "
                f"move the point and its tangent\n{self.text()}")

    def __repr__(self) -> str:
        return f"TangentExplorer(f(x) = {self.name}, x₀ = {self.x:g})"

    @property
    def figure(self):
        """The matplotlib Figure as drawn for the current x₀."""
        return self._figure

    # --- drawing --------------------------------------------------------------------------------
    def _draw_axes(self) -> None:
        xs = np.linspace(self.low, self.high, CURVE_POINTS)
        ys = np.array([float(self.f(x)) for x in xs])
        ax = self._ax = self._figure.add_subplot(111)
        ax.plot(xs, ys, color="#0072B2", label=f"f(x) = {self.name}")
        self._tangent = ax.plot([], [], color="#E69F00", linestyle="--", linewidth=2, label="tangent at x₀")[0]
        self._point = ax.plot([], [], "o", color="#D55E00", markersize=8, label="(x₀, f(x₀))")[0]
        low, high = self.y_range or _padded(ys)
        ax.set(xlim=(self.low, self.high), ylim=(low, high), xlabel="x", ylabel="f(x)")
        ax.axhline(0, color="#bbbbbb", linewidth=0.8, zorder=0)
        ax.legend(loc="upper left", fontsize=9)
        ax.set_title("x₀ = 0.00: slope f'(x₀) = 0.00")    # a title of the final size, so the layout leaves room
        self._figure.tight_layout()
        self._renderer = StepRenderer(self._figure, None)

    def _show(self) -> None:
        x, y, m = self.x, float(self.f(self.x)), self.slope(self.x)
        self._tangent.set_data([self.low, self.high], [y + m * (self.low - x), y + m * (self.high - x)])
        self._point.set_data([x], [y])
        self._ax.set_title(f"x₀ = {x:.2f}: slope f'(x₀) = {m:.2f}")
        if self._widget is not None:
            self._sync.put(self._slider, self.x)
            self._text.value = html_text(self.text())
            self._image.value = self._renderer.render()

    # --- the Jupyter widget ---------------------------------------------------------------------
    @property
    def widget(self):
        """The ipywidgets box (built on first use)."""
        if self._widget is None:
            import ipywidgets as w

            self._slider = w.FloatSlider(value=self.x, min=self.low, max=self.high, step=self.step,
                                         description="x₀", readout_format=".2f", continuous_update=True,
                                         layout=w.Layout(width="60%"))
            self._slider.observe(self._on_slider, names="value")
            self._text = w.HTML()
            self._text.add_class(TEXT_CLASS)
            self._image = w.Image(format="png")
            self._image.add_class("bplearn-picture")
            self._widget = w.VBox([self._slider, self._text, self._image])
            self._widget.add_class("bplearn-widget")
            self._widget.add_class("bplearn-tangentexplorer")
            self._show()
        return self._widget

    def _on_slider(self, change) -> None:
        if not self._sync.ignores(self._slider, change["new"], self.x):
            self.set_x(change["new"])


def _interval(name: str, pair) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise ValueError(f"TangentExplorer: {name} must be two numbers (low, high), got {pair!r}.") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"TangentExplorer: {name} needs low < high, both finite; got {pair!r}.")
    return low, high


def _padded(ys: np.ndarray) -> tuple[float, float]:
    """The curve's range with 10 % room above and below."""
    low, high = float(np.min(ys)), float(np.max(ys))
    pad = 0.1 * (high - low) or 1.0
    return low - pad, high + pad
