"""Step-through widgets (ipywidgets 8), built on ``bplearn.explain.trace`` and ``bplearn.explain.viz``.

* GraphStepper   - a scalar graph: forward values, then one chain-rule product per step
* NetworkStepper - a Sequential MLP or CNN, layer by layer, with one weight's gradient
* BPTTStepper    - an RNN unrolled in time; truncation and clipping toggles
* Playground     - data, depth, width, activation, optimiser, lr, batch size; Train / Stop

Each has a plain-Python API (step, back, reset, run_backward, state, figure, summary)
so it works and is tested without a browser; display it in Jupyter for the buttons.
"""
from .bptt import BPTTStepper
from .graph import GraphStepper, value_from_expression
from .network import NetworkStepper
from .playground import Playground

__all__ = ["GraphStepper", "NetworkStepper", "BPTTStepper", "Playground", "value_from_expression"]
