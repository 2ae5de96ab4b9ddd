"""What every widget shares: one state, drawn three ways (controls, text, picture).

Each widget keeps a single source of truth (a trace and a step index, a model and its
history, a point x). The controls, the text and the picture are all *drawn from* that
state and never hold state of their own:

* a control change is turned into a change of the state (``goto``, ``configure``, ...),
  and only if it really changes it: a float the browser echoes back slightly off
  (0.9 -> 0.9000000000000001) or a redraw that re-sends the same value does nothing;
* a change made in code (``stepper.set_truncation(5)``) updates the controls too, so
  what they show is always what the code set.

Every widget works in plain Python too (scripts, tests, a notebook read on GitHub):
its ``repr`` and the ``text/plain`` of its notebook output are a readable summary,
never a raw ``VBox(children=...)``.

A stepper (``Stepper``) adds the step buttons Forward / Step back / Step / Run backward /
Reset, a step slider, the chain-rule text and the picture (PNG bytes in an
``ipywidgets.Image``). It only *reads* its trace: event i is shown at step i.
"""
from __future__ import annotations

import html
import math
from contextlib import contextmanager
from numbers import Real

from ..trace import Trace
from ..viz.style import StepRenderer

MAX_SUMMARY_LINES = 60
TEXT_CLASS = "bplearn-step-text"      # DOM class of every widget's text, for tests and screen readers


def same_setting(old, new) -> bool:
    """True if ``new`` is ``old`` as far as a learner can tell: floats within 1e-9 relative.

    A browser sends a float slider's value back through JSON and a step grid, so 0.9 can
    return as 0.9000000000000001; that echo must not count as a change.
    """
    if isinstance(old, float) or isinstance(new, float):
        try:
            return math.isclose(float(old), float(new), rel_tol=1e-9, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    return old == new


class ControlSync:
    """Set controls from the state without their observers treating it as a learner's change."""

    def __init__(self):
        self.active = False

    @contextmanager
    def setting(self):
        """Within this block, observers see ``self.active`` and ignore the changes."""
        previous, self.active = self.active, True
        try:
            yield
        finally:
            self.active = previous

    def ignores(self, control, new, current) -> bool:
        """True if a change of ``control`` to ``new`` is not a learner's choice: we are setting it,
        or ``new`` is ``current`` give or take half a slider step (the browser snapped or
        echoed the value; a learner cannot pick anything closer than one step)."""
        if self.active or same_setting(current, new):
            return True
        step = getattr(control, "step", None)
        if not isinstance(step, float) or not isinstance(current, Real) or isinstance(current, bool):
            return False
        if type(control).__name__ == "FloatLogSlider":
            if new <= 0 or current <= 0:
                return False
            base = control.base
            return abs(math.log(new, base) - math.log(current, base)) < step / 2
        return abs(new - current) < step / 2

    def put(self, control, value) -> None:
        """control.value = value, unless it already shows it (no message to the browser).

        A choice control (dropdown, selection slider) that lacks ``value`` gets it added
        to its options, so a setting made in code is shown, never replaced by a neighbour.
        """
        if same_setting(control.value, value):
            return
        with self.setting():
            options = getattr(control, "options", None)
            if options is not None and value not in [_option_value(o) for o in options]:
                control.options = with_choice(options, value)
            control.value = value


def _option_value(option):
    return option[1] if isinstance(option, tuple) else option


def with_choice(options, value) -> list:
    """``options`` plus ``value``, sorted by value; (label, value) pairs stay pairs, labelled like ``log_choices``."""
    if options and isinstance(options[0], tuple):
        return sorted({*options, (f"{value:g}", value)}, key=lambda o: o[1])
    return sorted({*options, value})


def log_choices(low: float, high: float) -> list[tuple[str, float]]:
    """(label, value) for 1, 2, 5 times each power of ten from ``low`` to ``high``: 0.001, 0.002, 0.005, 0.01, ...

    For a selection slider on a log scale: every position is an exact number, so the
    browser can neither snap nor round it (a float slider on a log scale would turn 0.5
    into 10**-0.3 = 0.501).
    """
    values = [m * 10.0 ** e for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
              for m in (1, 2, 5)]
    return [(f"{v:g}", float(f"{v:.12g}")) for v in values if low * (1 - 1e-9) <= v <= high * (1 + 1e-9)]


def html_text(text: str) -> str:
    """Plain text as the monospace HTML a widget's text area shows (line breaks kept)."""
    body = html.escape(text).replace("\n", "<br>")
    return f"<div style='font-family: monospace' role='status' aria-live='polite'>{body}</div>"


def comparison_verdict(rows: list[dict], first: dict | None, label: str = "") -> str:
    """Compare mode's last line: every gradient matches, or which one differs first.

    rows: one dict per compared gradient with "match" and "step"; first: the first row
    that differs (in backward order) or None; label: how to name it, e.g. "dL/dw".
    """
    if first is None:
        return f"all {len(rows)} of your gradients match the reference"
    wrong = sum(not r["match"] for r in rows)
    return (f"{wrong} of your {len(rows)} gradients differ; the first, in backward order, is "
            f"{label} at step {first['step']}")


class TextFallback:
    """Mix-in: display as the widget, with ``summary()`` as the text a reader without a kernel sees."""

    def summary(self) -> str:  # pragma: no cover - every widget defines it
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.summary()          # what GitHub, nbviewer and plain consoles show
        return bundle


class Stepper(TextFallback):
    """Base class: subclasses build ``self.trace`` and ``self.view`` and call ``_start()``."""

    title = "Stepper"
    trace: Trace
    index = 0
    comparison: list = []                                  # compare mode: one row per learner gradient
    first_difference: dict | None = None
    _widget = _slider = _text = _image = None            # the Jupyter widget, built on first use

    def _start(self, trace: Trace, view) -> None:
        """Show event 0 of ``trace`` in ``view``; a widget already built is redrawn."""
        self.trace, self.view = trace, view
        self._renderer = StepRenderer(view.figure, getattr(view, "dynamic", None))
        self._sync = getattr(self, "_sync", None) or ControlSync()
        self.index = 0
        self._show()

    # --- plain-Python API ---------------------------------------------------------------------
    def goto(self, i: int) -> None:
        """Show event ``i`` (clamped to the trace)."""
        i = max(0, min(int(i), len(self.trace) - 1))
        if i != self.index:
            self.index = i
            self._show()

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
        """The sentence shown for the current step (subclasses may add lines)."""
        return self.trace[self.index].text

    def comparison_text(self) -> list[str]:
        """Compare mode: "yours vs reference" for rows finished at this step, a verdict at the end."""
        lines = [self._comparison_line(row) for row in self.comparison if row["step"] == self.index]
        if self.comparison and self.index == len(self.trace) - 1:
            lines.append(self._verdict())
        return lines

    def _comparison_line(self, row: dict) -> str:  # pragma: no cover - subclasses with compare mode
        raise NotImplementedError

    def _verdict(self) -> str:
        first = self.first_difference
        return comparison_verdict(self.comparison, first, first and self._difference_label(first))

    def _difference_label(self, row: dict) -> str:
        return row["name"]

    def heading(self) -> str:
        """The first line of the widget's text: where in the pass we are."""
        return f"step {self.index} of {len(self.trace) - 1} ({self.trace[self.index].phase})"

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
        if self.comparison:
            lines += ["yours vs reference, in backward order:",
                      *(self._comparison_line(row) for row in self.comparison), self._verdict()]
        return f"{self.title}: {len(self.trace)} events, now at step {self.index}\n" + "\n".join(lines)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.trace)} events, step {self.index})"

    # --- drawing the state ----------------------------------------------------------------------
    def _show(self) -> None:
        """Draw the current step in the picture, and in the widget's controls and text if built."""
        self.view.update(self.index)
        if self._widget is not None:
            self._sync_controls()
            self._text.value = html_text(f"{self.heading()}\n{self.text()}")
            self._image.value = self._renderer.render()

    def _sync_controls(self) -> None:
        """Make every control show the state (subclasses add theirs)."""
        self._slider.max = len(self.trace) - 1
        self._sync.put(self._slider, self.index)

    # --- the Jupyter widget ---------------------------------------------------------------------
    @property
    def widget(self):
        """The ipywidgets box (built on first use)."""
        if self._widget is None:
            self._widget = self._build_widget()
            self._show()
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
        self._slider.observe(self._on_slider, names="value")
        self._text = w.HTML(layout=w.Layout(min_height="3em"))
        self._text.add_class(TEXT_CLASS)
        self._image = w.Image(format="png")
        self._image.add_class("bplearn-picture")
        box = w.VBox([w.HBox(buttons), self._slider, *self._controls(), self._text, self._image])
        box.add_class("bplearn-widget")
        box.add_class(f"bplearn-{type(self).__name__.lower()}")
        return box

    def _on_slider(self, change) -> None:
        if not self._sync.active:
            self.goto(change["new"])
