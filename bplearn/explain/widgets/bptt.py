"""BPTTStepper: watch the gradient travel back through the time steps of an RNN."""
from __future__ import annotations

import numpy as np

from ...nn.rnn import RNN
from ..trace import trace_rnn
from ..viz.rnn import RNNView
from ..viz.style import new_figure
from .base import Stepper


class BPTTStepper(Stepper):
    """Step through an RNN's forward pass in time, then backpropagation through time.

    rnn: an nn.RNN; sequence: (T, D) one sequence or (N, T, D) a batch.
    bptt_steps: None (full BPTT) or k (truncated: no gradient crosses blocks of k steps);
        by default the layer's own setting.
    clip_norm: None or a max norm for the parameters' total gradient (gradient clipping).

    Each backward step shows ||dL/dh_t|| and how much it shrank or grew compared with
    the step after it. ``set_truncation(k)`` and ``set_clipping(max_norm)`` (or the
    checkboxes) trace the pass again with the new setting.
    """

    title = "BPTTStepper"

    def __init__(self, rnn, sequence, bptt_steps: int | None | str = "layer", clip_norm: float | None = None):
        if not isinstance(rnn, RNN):
            raise TypeError(f"BPTTStepper needs an nn.RNN layer, got {type(rnn).__name__}.")
        x = np.asarray(sequence)                                  # the RNN checks the shape and dtype
        self.rnn, self.x = rnn, x[None] if x.ndim == 2 else x     # one sequence -> a batch of one
        self.bptt_steps = rnn.bptt_steps if bptt_steps == "layer" else bptt_steps
        self.clip_norm = clip_norm
        self._figure = new_figure((9, 4.8), pyplot=False)
        self._retrace()

    def _retrace(self) -> None:
        """Trace the pass again with the current settings and stay at the same step."""
        trace = trace_rnn(self.rnn, self.x, bptt_steps=self.bptt_steps, clip_norm=self.clip_norm)
        index = min(self.index, len(trace) - 1)
        self._figure.clear()
        self._start(trace, RNNView(trace, self._figure))
        if self._slider is not None:
            self._slider.max = len(trace) - 1
        self.goto(index)

    def set_truncation(self, bptt_steps: int | None) -> None:
        """Truncated BPTT with blocks of ``bptt_steps`` (None: full BPTT); traces again."""
        self.bptt_steps = bptt_steps
        self._retrace()

    def set_clipping(self, clip_norm: float | None) -> None:
        """Clip the parameters' total gradient norm to ``clip_norm`` (None: off); traces again."""
        self.clip_norm = clip_norm
        self._retrace()

    @property
    def grad_norms(self) -> np.ndarray:
        """(T,) ||dL/dh_t|| of the traced pass."""
        return self.trace.info["grad_norms"]

    def _controls(self) -> list:
        import ipywidgets as w

        T = self.trace.info["T"]
        truncate = w.Checkbox(value=self.bptt_steps is not None, description="truncate BPTT")
        k = w.IntSlider(value=self.bptt_steps or max(1, T // 3), min=1, max=T, description="block k")
        clip = w.Checkbox(value=self.clip_norm is not None, description="clip gradients")
        max_norm = w.FloatLogSlider(value=self.clip_norm or 1.0, base=10, min=-3, max=2, description="max norm")

        def changed(_change) -> None:
            self.bptt_steps = k.value if truncate.value else None
            self.clip_norm = max_norm.value if clip.value else None
            self._retrace()

        for control in (truncate, k, clip, max_norm):
            control.observe(changed, names="value")
        return [w.HBox([truncate, k]), w.HBox([clip, max_norm])]
