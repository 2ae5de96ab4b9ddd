"""NetworkStepper: walk through a Sequential (MLP or CNN) layer by layer."""
from __future__ import annotations

import numpy as np

from ..trace import fmt, trace_network
from ..viz.cnn import LayerView
from ..viz.network import MLPView, is_mlp_trace
from ..viz.style import new_figure
from .base import Stepper

MAX_CHOICES = 16     # entries per parameter offered in the weight menu
RTOL, ATOL = 1e-5, 1e-8   # a learner's gradient "matches" within rounding, nothing more


class NetworkStepper(Stepper):
    """Step through one forward and backward pass of ``model`` on a batch.

    model: an nn.Sequential; x: (N, ...) inputs; y: (N, ...) targets; loss_fn: e.g.
    nn.MSELoss() or nn.CrossEntropyLoss(). An MLP is drawn as neurons and weights, a
    CNN as feature maps and kernel gradients (sample: which item of the batch).

    weight: the parameter entry whose gradient is shown in numbers and marked in the
    picture, e.g. ("0.weight", (1, 0)); default: the first entry of the first
    parameter (or, with compare, where your gradient differs most).

    compare: {parameter name: your gradient array}, e.g. {"0.weight": dW1, "0.bias": db1}
    (names as in ``model.named_parameters()``, shapes as the parameters). At each layer's
    backward step the text shows yours beside the reference, and the first parameter that
    differs (in backward order) is marked at its largest difference.
    """

    title = "NetworkStepper"

    def __init__(self, model, x, y, loss_fn, weight: tuple[str, tuple] | None = None, sample: int = 0,
                 compare: dict | None = None):
        trace = trace_network(model, x, y, loss_fn)        # checks model type and x/y shapes
        if not 0 <= sample < len(trace.info["x"]):
            raise IndexError(f"NetworkStepper: sample={sample} but the batch has {len(trace.info['x'])} items.")
        self.params = trace.info["params"]
        if not self.params:
            raise ValueError("NetworkStepper: the model has no parameters, so there is no weight gradient to show.")
        self.comparison = compare_network(trace, compare) if compare is not None else []
        self.first_difference = next((c for c in self.comparison if not c["match"]), None)
        fig = new_figure((9, 4.5), pyplot=False)
        view = MLPView(trace, fig, sample) if is_mlp_trace(trace) else LayerView(trace, fig, sample)
        self.weight = self._checked_weight(*(weight or self._default_weight()))
        self.trace, self.view = trace, view                # mark before the first drawing
        self._mark_picture()
        self._start(trace, view)

    def _default_weight(self) -> tuple[str, tuple]:
        first = self.first_difference
        if first is not None:
            return first["name"], first["worst"]
        name = next(iter(self.params))
        return name, (0,) * self.params[name].ndim

    def _checked_weight(self, name: str, index) -> tuple[str, tuple]:
        if name not in self.params:
            raise KeyError(f"NetworkStepper: no parameter {name!r}; the model has {list(self.params)}.")
        index = tuple(int(i) for i in np.atleast_1d(index))
        shape = self.params[name].shape
        if len(index) != len(shape) or not all(0 <= i < s for i, s in zip(index, shape)):
            raise IndexError(f"NetworkStepper: {name} has shape {shape}; index {index} is outside it.")
        return name, index

    def select_weight(self, name: str, index) -> None:
        """Show dL/d name[index] in the text and mark it in the picture, e.g. select_weight("0.weight", (1, 0))."""
        self.weight = self._checked_weight(name, index)
        self._mark_picture()
        self._show()

    def _mark_picture(self) -> None:
        name, index = self.weight
        self.view.mark("selected", name, index, f"selected: {entry_name(name, index)}")
        first = self.first_difference
        if first is not None:
            where = entry_name(first["name"], first["worst"])
            self.view.mark("difference", first["name"], first["worst"],
                           f"first difference: {where}, yours {fmt(first['yours_at_worst'])} vs reference "
                           f"{fmt(first['reference_at_worst'])}", from_step=first["step"])

    def weight_gradient(self) -> tuple[float | None, int]:
        """(dL/d weight as known at the current step or None, step where backprop reaches it)."""
        name, index = self.weight
        reached = next(e.index for e in self.trace if name in e.param_grads)
        if self.index < reached:
            return None, reached
        return float(self.trace[reached].param_grads[name][index]), reached

    def text(self) -> str:
        """The current step's sentence, the selected weight and, with compare, yours vs reference."""
        return "\n".join([self.trace[self.index].text, self._weight_line(), *self.comparison_text()])

    def _comparison_line(self, row: dict) -> str:
        """"yours vs reference for 0.weight: largest difference 0.1 at 0.weight[1, 0] (yours 0.3, ...): differs"."""
        if row["match"]:
            return f"yours vs reference for {row['name']}: matches (largest difference {fmt(row['max_diff'])})"
        first = " (the first gradient that differs)" if row is self.first_difference else ""
        return (f"yours vs reference for {row['name']}: largest difference {fmt(row['max_diff'])} at "
                f"{entry_name(row['name'], row['worst'])} (yours {fmt(row['yours_at_worst'])}, reference "
                f"{fmt(row['reference_at_worst'])}): differs{first}")

    def _weight_line(self) -> str:
        name, index = self.weight
        entry = entry_name(name, index)
        value, reached = self.weight_gradient()
        w = fmt(self.params[name][index])
        if value is None:
            return f"selected weight {entry} = {w}: backprop reaches its gradient at step {reached}"
        how = ""
        if name.endswith("weight") and len(index) == 2:
            j, k = index                            # Linear: dL/dW[j, k] = sum_n dL/dout[n, j] * in[n, k]
            how = f" = Σ over the batch of dL/d(output)[n, {j}] · input[n, {k}]"
        yours = next((f"; yours {fmt(c['yours'][index])}" for c in self.comparison if c["name"] == name), "")
        return f"selected weight {entry} = {w}: dL/d{entry}{how} = {fmt(value)}{yours}"

    # --- the weight menu ------------------------------------------------------------------------
    def _menu_options(self) -> list:
        options = [(entry_name(n, i), (n, i)) for n, p in self.params.items()
                   for i in list(np.ndindex(p.shape))[:MAX_CHOICES]]
        if self.weight not in [value for _, value in options]:
            options.append((entry_name(*self.weight), self.weight))   # chosen in code: always listed
        return options

    def _controls(self) -> list:
        import ipywidgets as w

        self._menu = w.Dropdown(options=self._menu_options(), value=self.weight, description="weight")
        self._menu.observe(self._on_menu, names="value")
        return [self._menu]

    def _on_menu(self, change) -> None:
        if not self._sync.active and change["new"] and change["new"] != self.weight:
            self.select_weight(*change["new"])

    def _sync_controls(self) -> None:
        super()._sync_controls()
        options = self._menu_options()
        if len(options) != len(self._menu.options):
            with self._sync.setting():
                self._menu.options = options
        self._sync.put(self._menu, self.weight)


def entry_name(name: str, index: tuple) -> str:
    """"0.weight[1, 0]"."""
    return f"{name}[{', '.join(map(str, index))}]"


def compare_network(trace, compare: dict) -> list[dict]:
    """One row per compared parameter, in backward order (the step that computes its gradient).

    Returns [{"name", "step", "yours", "reference", "match", "worst", "max_diff",
    "yours_at_worst", "reference_at_worst"}]; worst is the index of the largest
    |yours - reference|; match uses numpy.allclose(rtol=1e-5, atol=1e-8).
    """
    if not isinstance(compare, dict):
        raise TypeError(f"NetworkStepper: compare must be a dict {{parameter name: your gradient}}, got "
                        f"{type(compare).__name__}.")
    step = {n: e.index for e in trace for n in e.param_grads}
    reference = {n: g for e in trace for n, g in e.param_grads.items()}
    rows = []
    for name, yours in compare.items():
        if name not in reference:
            raise KeyError(f"NetworkStepper: compare names {name!r}, but the model's parameters are "
                           f"{list(reference)}.")
        yours = np.asarray(yours, dtype=float)
        ref = reference[name]
        if yours.shape != ref.shape:
            raise ValueError(f"NetworkStepper: your gradient for {name} has shape {yours.shape}, but {name} has "
                             f"shape {ref.shape}; a gradient has the shape of its parameter.")
        diff = np.abs(yours - ref)
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape))
        rows.append({"name": name, "step": step[name], "yours": yours, "reference": ref,
                     "match": bool(np.allclose(yours, ref, rtol=RTOL, atol=ATOL)), "worst": worst,
                     "max_diff": float(diff.max()), "yours_at_worst": float(yours[worst]),
                     "reference_at_worst": float(ref[worst])})
    return sorted(rows, key=lambda row: row["step"])
