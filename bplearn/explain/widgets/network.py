"""NetworkStepper: walk through a Sequential (MLP or CNN) layer by layer."""
from __future__ import annotations

import numpy as np

from ..trace import fmt, trace_network
from ..viz.cnn import LayerView
from ..viz.network import MLPView, is_mlp_trace
from ..viz.style import new_figure
from .base import Stepper

MAX_CHOICES = 16     # entries per parameter offered in the weight menu


class NetworkStepper(Stepper):
    """Step through one forward and backward pass of ``model`` on a batch.

    model: an nn.Sequential; x: (N, ...) inputs; y: (N, ...) targets; loss_fn: e.g.
    nn.MSELoss() or nn.CrossEntropyLoss(). An MLP is drawn as neurons and weights, a
    CNN as feature maps and kernel gradients (sample: which item of the batch).

    weight: the parameter entry whose gradient is shown in numbers, e.g.
    ("0.weight", (1, 0)); default: the first entry of the first parameter.
    """

    title = "NetworkStepper"

    def __init__(self, model, x, y, loss_fn, weight: tuple[str, tuple] | None = None, sample: int = 0):
        trace = trace_network(model, x, y, loss_fn)        # checks model type and x/y shapes
        if not 0 <= sample < len(trace.info["x"]):
            raise IndexError(f"NetworkStepper: sample={sample} but the batch has {len(trace.info['x'])} items.")
        self.params = trace.info["params"]
        if not self.params:
            raise ValueError("NetworkStepper: the model has no parameters, so there is no weight gradient to show.")
        fig = new_figure((9, 4.5), pyplot=False)
        view = MLPView(trace, fig, sample) if is_mlp_trace(trace) else LayerView(trace, fig, sample)
        name = next(iter(self.params))
        self.select_weight(*(weight or (name, (0,) * self.params[name].ndim)), _check_only=True)
        self._start(trace, view)

    def select_weight(self, name: str, index, _check_only: bool = False) -> None:
        """Show dL/d name[index] in the text, e.g. select_weight("0.weight", (1, 0))."""
        if name not in self.params:
            raise KeyError(f"NetworkStepper: no parameter {name!r}; the model has {list(self.params)}.")
        index = tuple(int(i) for i in np.atleast_1d(index))
        shape = self.params[name].shape
        if len(index) != len(shape) or not all(0 <= i < s for i, s in zip(index, shape)):
            raise IndexError(f"NetworkStepper: {name} has shape {shape}; index {index} is outside it.")
        self.weight = (name, index)
        if not _check_only:
            self.goto(self.index)

    def weight_gradient(self) -> tuple[float | None, int]:
        """(dL/d weight as known at the current step or None, step where backprop reaches it)."""
        name, index = self.weight
        reached = next(e.index for e in self.trace if name in e.param_grads)
        if self.index < reached:
            return None, reached
        return float(self.trace[reached].param_grads[name][index]), reached

    def text(self) -> str:
        """The current step's sentence, then the selected weight and its gradient (once reached)."""
        name, index = self.weight
        entry = f"{name}[{', '.join(map(str, index))}]"
        value, reached = self.weight_gradient()
        w = fmt(self.params[name][index])
        if value is None:
            line = f"selected weight {entry} = {w}: backprop reaches its gradient at step {reached}"
        else:
            how = ""
            if name.endswith("weight") and len(index) == 2:
                j, k = index                            # Linear: dL/dW[j, k] = sum_n dL/dout[n, j] * in[n, k]
                how = f" = Σ over the batch of dL/d(output)[n, {j}] · input[n, {k}]"
            line = f"selected weight {entry} = {w}: dL/d{entry}{how} = {fmt(value)}"
        return f"{self.trace[self.index].text}\n{line}"

    def _controls(self) -> list:
        import ipywidgets as w

        options = [(f"{n}[{', '.join(map(str, i))}]", (n, i)) for n, p in self.params.items()
                   for i in list(np.ndindex(p.shape))[:MAX_CHOICES]]
        menu = w.Dropdown(options=options, value=self.weight if self.weight in [o[1] for o in options] else None,
                          description="weight")
        menu.observe(lambda change: change["new"] and self.select_weight(*change["new"]), names="value")
        return [menu]
