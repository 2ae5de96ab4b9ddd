"""Plots for backprop, drawn with matplotlib only (no graphviz).

Every function returns the Figure, titled and with labelled axes. The ``*View``
classes keep one figure and redraw it for step ``i`` of a trace; the widgets use them.

* graph   - a scalar computational graph with values and gradients (plot_graph)
* network - an MLP as neurons and weights coloured by gradient (plot_network)
* cnn     - feature maps, kernel gradients, any network layer by layer (plot_layers)
* rnn     - an RNN unrolled in time with the gradient norm at each step (plot_rnn)
* curves  - loss curves, decision boundaries, gradient norm per layer
"""
from .cnn import LayerView, plot_feature_maps, plot_kernels, plot_layers
from .curves import TrainingView, plot_decision_boundary, plot_grad_norms, plot_loss_curve
from .graph import GraphView, layered_layout, plot_graph
from .network import MLPView, plot_network
from .rnn import RNNView, plot_rnn

__all__ = [
    "plot_graph", "plot_network", "plot_layers", "plot_feature_maps", "plot_kernels", "plot_rnn",
    "plot_loss_curve", "plot_decision_boundary", "plot_grad_norms",
    "GraphView", "MLPView", "LayerView", "RNNView", "TrainingView", "layered_layout",
]
