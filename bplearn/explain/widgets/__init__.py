"""Step-through widgets (ipywidgets 8), built on ``bplearn.explain.trace`` and ``bplearn.explain.viz``.

* GraphStepper   - a scalar graph: forward values, then one chain-rule product per step
* NetworkStepper - a Sequential MLP or CNN, layer by layer, with one weight's gradient
* BPTTStepper    - an RNN unrolled in time; truncation and clipping toggles
* Playground     - data, depth, width, activation, optimiser, lr, batch size; Train / Stop
* TangentExplorer - nudge x, watch f(x) and the tangent whose slope is f'(x)

Each keeps one state and draws its controls, text and picture from it; each has a
plain-Python API (step, back, reset, run_backward / set_x / train, state, figure,
summary) so it works and is tested without a browser; display it in Jupyter for the
controls. Without a kernel, its notebook output reads as its plain-text summary.
"""
from .bptt import BPTTStepper
from .graph import GraphStepper, value_from_expression
from .network import NetworkStepper
from .playground import Playground
from .tangent import TangentExplorer

__all__ = ["GraphStepper", "NetworkStepper", "BPTTStepper", "Playground", "TangentExplorer",
           "value_from_expression"]
