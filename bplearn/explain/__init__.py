"""Seeing backprop: traces of real forward and backward passes, plots, and widgets.

    trace    the events of one forward and backward pass, for Value graphs and layers
    viz      matplotlib pictures of graphs, networks, feature maps, unrolled RNNs, curves
    widgets  step-through widgets and the training playground, built on trace and viz

    from bplearn.explain import GraphStepper, NetworkStepper, BPTTStepper, Playground, TangentExplorer
"""
from .widgets import BPTTStepper, GraphStepper, NetworkStepper, Playground, TangentExplorer

__all__ = ["GraphStepper", "NetworkStepper", "BPTTStepper", "Playground", "TangentExplorer"]
