"""BPTTStepper: watch the gradient travel back through the time steps of an RNN or LSTM."""
from __future__ import annotations

from numbers import Real

import numpy as np

from ...errors import check_bptt_steps
from ...nn.lstm import LSTM
from ...nn.rnn import RNN
from ..trace import fmt, trace_rnn
from ..viz.rnn import RNNView
from ..viz.style import new_figure
from .base import Stepper, log_choices

CLIP_RANGE = (1e-3, 100.0)      # max norms the slider offers (a log scale)


class BPTTStepper(Stepper):
    """Step through an RNN's or LSTM's forward pass in time, then backpropagation through time.

    rnn: an nn.RNN or nn.LSTM; sequence: (T, D) one sequence or (N, T, D) a batch.
    bptt_steps: None (full BPTT) or k (truncated: no gradient crosses blocks of k steps);
        by default the layer's own setting.
    clip_norm: None or a max norm for the parameters' total gradient (gradient clipping).

    Each backward step shows ||dL/dh_t|| and how much it shrank or grew compared with
    the step after it. ``set_truncation(k)`` and ``set_clipping(max_norm)`` trace the
    pass again with the new setting; the checkboxes and sliders show these settings
    and change one of them at a time (ticking "truncate BPTT" leaves clipping alone).
    """

    title = "BPTTStepper"

    def __init__(self, rnn, sequence, bptt_steps: int | None | str = "layer", clip_norm: float | None = None):
        if not isinstance(rnn, (RNN, LSTM)):
            raise TypeError(f"BPTTStepper needs an nn.RNN or nn.LSTM layer, got {type(rnn).__name__}.")
        x = np.asarray(sequence)                                  # the layer checks the shape and dtype
        self.rnn, self.x = rnn, x[None] if x.ndim == 2 else x     # one sequence -> a batch of one
        self.bptt_steps = rnn.bptt_steps if bptt_steps == "layer" else check_bptt_steps(bptt_steps)
        self.clip_norm = _checked_clip(clip_norm)
        self._figure = new_figure((9, 4.8), pyplot=False)
        self._retrace()
        T = self.trace.info["T"]
        self._block = self.bptt_steps or max(1, T // 3)           # the slider's k while truncation is off
        self._max_norm = self.clip_norm or 1.0                    # the slider's norm while clipping is off

    def _retrace(self) -> None:
        """Trace the pass again with the current settings and stay at the same step."""
        trace = trace_rnn(self.rnn, self.x, bptt_steps=self.bptt_steps, clip_norm=self.clip_norm)
        index = min(self.index, len(trace) - 1)
        self._figure.clear()
        self._start(trace, RNNView(trace, self._figure))
        self.goto(index)

    def set_truncation(self, bptt_steps: int | None) -> None:
        """Truncated BPTT with blocks of ``bptt_steps`` (None: full BPTT); traces again."""
        self.bptt_steps = check_bptt_steps(bptt_steps)
        if bptt_steps is not None:
            self._block = self.bptt_steps
        self._retrace()

    def set_clipping(self, clip_norm: float | None) -> None:
        """Clip the parameters' total gradient norm to ``clip_norm`` (None: off); traces again."""
        self.clip_norm = _checked_clip(clip_norm)
        if clip_norm is not None:
            self._max_norm = self.clip_norm
        self._retrace()

    @property
    def grad_norms(self) -> np.ndarray:
        """(T,) ||dL/dh_t|| of the traced pass."""
        return self.trace.info["grad_norms"]

    def heading(self) -> str:
        """Where we are, and the settings the pass was traced with."""
        k, clip = self.bptt_steps, self.clip_norm
        settings = (f"{type(self.rnn).__name__}, " + (f"truncated BPTT, blocks of {k}" if k else "full BPTT")
                    + (f", clipped to {fmt(clip)}" if clip is not None else ", no clipping"))
        return f"{super().heading()}; {settings}"

    # --- controls: each shows one setting and changes only that one -------------------------------
    def _controls(self) -> list:
        import ipywidgets as w

        T = self.trace.info["T"]
        self._truncate = w.Checkbox(description="truncate BPTT", indent=False)
        self._k = w.IntSlider(min=1, max=T, description="block k")
        self._clip = w.Checkbox(description="clip gradients", indent=False)
        self._norm = w.SelectionSlider(options=log_choices(*CLIP_RANGE), value=1.0, description="max norm")
        self._truncate.observe(lambda c: self._on_control(c, self._truncate_changed), names="value")
        self._k.observe(lambda c: self._on_control(c, self._k_changed), names="value")
        self._clip.observe(lambda c: self._on_control(c, self._clip_changed), names="value")
        self._norm.observe(lambda c: self._on_control(c, self._norm_changed), names="value")
        return [w.HBox([self._truncate, self._k]), w.HBox([self._clip, self._norm])]

    def _on_control(self, change, apply) -> None:
        if not self._sync.ignores(change["owner"], change["new"], change["old"]):
            apply(change["new"])

    def _truncate_changed(self, on: bool) -> None:
        if on != (self.bptt_steps is not None):
            self.set_truncation(self._block if on else None)

    def _k_changed(self, k: int) -> None:
        self._block = k
        if self.bptt_steps is not None and k != self.bptt_steps:
            self.set_truncation(k)

    def _clip_changed(self, on: bool) -> None:
        if on != (self.clip_norm is not None):
            self.set_clipping(self._max_norm if on else None)

    def _norm_changed(self, norm: float) -> None:
        if self._sync.ignores(self._norm, norm, self._max_norm):
            return
        self._max_norm = norm
        if self.clip_norm is not None:
            self.set_clipping(norm)

    def _sync_controls(self) -> None:
        super()._sync_controls()
        self._sync.put(self._truncate, self.bptt_steps is not None)
        self._sync.put(self._k, self._block)
        self._sync.put(self._clip, self.clip_norm is not None)
        self._sync.put(self._norm, self._max_norm)


def _checked_clip(clip_norm):
    """clip_norm as a float in CLIP_RANGE, or None; a clear error otherwise."""
    if clip_norm is None:
        return None
    low, high = CLIP_RANGE
    if isinstance(clip_norm, bool) or not isinstance(clip_norm, Real) or not low <= clip_norm <= high:
        raise ValueError(f"BPTTStepper: clip_norm must be None (no clipping) or a number from {low:g} to "
                         f"{high:g}, got {clip_norm!r}.")
    return float(clip_norm)
