"""What every stepper shares: a trace, a view that draws step i, buttons and a slider.

A stepper is usable in two ways:

* in plain Python (scripts, tests, a notebook read on GitHub): ``step()``, ``back()``,
  ``forward()``, ``run_backward()``, ``reset()``, ``goto(i)``; ``state`` says what is
  shown, ``figure`` is the matplotlib Figure, ``summary()`` the whole pass as text;
* in Jupyter: display it (or ``.widget``) to get the buttons
  Forward / Step back / Step / Run backward / Reset, a step slider, the chain-rule
  text and the picture (PNG bytes in an ``ipywidgets.Image``, redrawn per step).

The stepper only *reads* the trace: event i is shown at step i, nothing is recomputed.
"""
from __future__ import annotations

import html

from ..trace import Trace
from ..viz.style import StepRenderer

MAX_SUMMARY_LINES = 60


class Stepper:
    """Base class: subclasses build ``self.trace`` and ``self.view`` and call ``_start()``."""

    title = "Stepper"
    trace: Trace
    index = 0
    _widget = _slider = _text = _image = None            # the Jupyter widget, built on first use

    def _start(self, trace: Trace, view) -> None:
        """Show event 0 of ``trace`` in ``view``; a widget already built is kept and redrawn by goto."""
        self.trace, self.view = trace, view
        self._renderer = StepRenderer(view.figure, getattr(view, "dynamic", None))
        self.index = 0
        self.view.update(0)

    # --- plain-Python API ---------------------------------------------------------------------
    def goto(self, i: int) -> None:
        """Show event ``i`` (clamped to the trace)."""
        i = max(0, min(int(i), len(self.trace) - 1))
        self.index = i
        if self._slider is not None and self._slider.value != i:
            self._slider.value = i                        # its observer calls goto(i) again and draws
            return
        self.view.update(i)
        if self._image is not None:
            self._refresh_widget()

    def step(self) -> None:
        """One event further."""
        self.goto(self.index + 1)

    def back(self) -> None:
        """One event back."""
        self.goto(self.index - 1)

    def reset(self) -> None:
        """Back to the first event."""
        self.goto(0)

    def forward(self) -> None:
        """Jump to the end of the forward pass."""
        self.goto(self.trace.last_forward)

    def run_backward(self) -> None:
        """Jump to the end of the backward pass (the last event)."""
        self.goto(len(self.trace) - 1)

    def text(self) -> str:
        """The sentence shown for the current step (subclasses may add a line)."""
        return self.trace[self.index].text

    @property
    def state(self) -> dict:
        """{"step", "last", "phase", "name", "event", "text"} for what is shown now."""
        event = self.trace[self.index]
        return {"step": self.index, "last": len(self.trace) - 1, "phase": event.phase, "name": event.name,
                "event": event, "text": self.text()}

    @property
    def figure(self):
        """The matplotlib Figure as it is drawn for the current step."""
        return self.view.figure

    def summary(self) -> str:
        """The whole pass as plain text, one numbered line per event (readable without Jupyter)."""
        lines = self.trace.summary().splitlines()
        if len(lines) > MAX_SUMMARY_LINES:
            half = MAX_SUMMARY_LINES // 2
            lines = lines[:half] + [f"... ({len(lines) - 2 * half} more events) ..."] + lines[-half:]
        return f"{self.title}: {len(self.trace)} events, now at step {self.index}\n" + "\n".join(lines)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.trace)} events, step {self.index})"

    # --- the Jupyter widget ---------------------------------------------------------------------
    @property
    def widget(self):
        """The ipywidgets box (built on first use)."""
        if self._widget is None:
            self._widget = self._build_widget()
            self.goto(self.index)
        return self._widget

    def _controls(self) -> list:
        """Extra widgets under the buttons (subclasses override)."""
        return []

    def _build_widget(self):
        import ipywidgets as w

        buttons = []
        for label, action, tip in [("Forward", self.forward, "run the whole forward pass"),
                                   ("Step back", self.back, "one event back"),
                                   ("Step", self.step, "one event further"),
                                   ("Run backward", self.run_backward, "run the whole backward pass"),
                                   ("Reset", self.reset, "back to the start")]:
            button = w.Button(description=label, tooltip=tip, layout=w.Layout(width="auto"))
            button.on_click(lambda _b, act=action: act())
            buttons.append(button)
        self._slider = w.IntSlider(value=self.index, min=0, max=len(self.trace) - 1, description="step",
                                   continuous_update=False, layout=w.Layout(width="60%"))
        self._slider.observe(lambda change: self.goto(change["new"]), names="value")
        self._text = w.HTML(layout=w.Layout(min_height="3em"))
        self._image = w.Image(format="png")
        self._text.add_class("bplearn-step-text")
        return w.VBox([w.HBox(buttons), self._slider, *self._controls(), self._text, self._image])

    def _refresh_widget(self) -> None:
        event = self.trace[self.index]
        body = html.escape(self.text()).replace("\n", "<br>")
        self._text.value = (f"<div style='font-family: monospace'><b>step {self.index} of "
                            f"{len(self.trace) - 1} ({event.phase})</b><br>{body}</div>")
        self._image.value = self._renderer.render()

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.summary()           # what GitHub and plain consoles show
        return bundle
