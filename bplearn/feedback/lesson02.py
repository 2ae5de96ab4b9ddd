"""The your-turn tasks of lesson 02 (computational graphs and the single neuron).

    from bplearn.feedback import lesson02
    backward_pass = lesson02.backward_pass.check(backward_pass)        # a whole graph, with +=
    neuron_backward = lesson02.neuron_backward.check(neuron_backward)  # the 0.8 -> 1.0 neuron
    sigmoid_neuron_backward = lesson02.sigmoid_neuron_backward.check(sigmoid_neuron_backward)

Neurons here are plain numpy: x, w of shape (n,), y = f(w @ x + b), L = ½ (y - target)².
"""
from __future__ import annotations

import numpy as np

from .yourturn import task_from_texts

LESSON = "02_graphs_and_neuron.ipynb"


# --- the backward pass of a graph given as plain data --------------------------------------

def _backward_pass(n_nodes, edges):
    """n_nodes: int; edges: (parent, child, local) in topological order of the child -> grads, (n_nodes,)."""
    grads = np.zeros(n_nodes)
    grads[-1] = 1.0                                   # dL/dL: the loss is the last node
    for parent, child, local in reversed(edges):      # every child's gradient is complete first
        grads[parent] += local * grads[child]         # +=: a parent may have several users
    return grads


def _overwrites(n_nodes, edges):
    grads = np.zeros(n_nodes)
    grads[-1] = 1.0
    for parent, child, local in reversed(edges):
        grads[parent] = local * grads[child]
    return grads


def _forward_order(n_nodes, edges):
    grads = np.zeros(n_nodes)
    grads[-1] = 1.0
    for parent, child, local in edges:
        grads[parent] += local * grads[child]
    return grads


def _without_local(n_nodes, edges):
    grads = np.zeros(n_nodes)
    grads[-1] = 1.0
    for parent, child, _ in reversed(edges):
        grads[parent] += grads[child]
    return grads


def _no_seed(n_nodes, edges):
    return np.zeros(n_nodes)


def _random_graph(rng):
    """Three leaves, then nodes that each use the node before them and one random earlier node."""
    n_nodes, edges = 8, []
    for child in range(3, n_nodes):
        for parent in (child - 1, int(rng.integers(0, child - 1))):
            edges.append((parent, child, round(float(rng.uniform(-2, 2)), 2)))
    return {"n_nodes": n_nodes, "edges": tuple(edges)}


backward_pass = task_from_texts(globals(), "backward_pass")


# --- one linear neuron: y = w @ x + b, L = ½ (y - target)² -------------------------------

def _neuron_backward(x, w, b, target):
    """x, w: (n,), b, target: numbers -> dw: (n,), db: number, for the linear neuron."""
    y = w @ x + b
    dL_dy = y - target                   # derivative of ½ (y - target)²
    return dL_dy * x, dL_dy              # dz/dw_i = x_i, dz/db = 1


def _target_minus_prediction(x, w, b, target):
    error = target - (w @ x + b)
    return error * x, error


def _times_the_weights(x, w, b, target):
    dL_dy = w @ x + b - target
    return dL_dy * w, dL_dy


def _without_the_input(x, w, b, target):
    dL_dy = w @ x + b - target
    return dL_dy * np.ones_like(x), dL_dy


def _half_ignored(x, w, b, target):
    dL_dy = 2 * (w @ x + b - target)
    return dL_dy * x, dL_dy


def _neuron_inputs(rng):
    return {"x": rng.uniform(-1, 1, size=3), "w": rng.uniform(-1, 1, size=3),
            "b": float(rng.uniform(-0.5, 0.5)), "target": float(rng.uniform(-1, 1))}


neuron_backward = task_from_texts(globals(), "neuron_backward")


# --- the same neuron with a sigmoid: y = sigmoid(w @ x + b) ---------------------------------

def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _sigmoid_neuron_backward(x, w, b, target):
    """x, w: (n,), b, target: numbers -> dw: (n,), db: number, for y = sigmoid(w @ x + b)."""
    y = _sigmoid(w @ x + b)
    dL_dz = (y - target) * y * (1 - y)   # dL/dy · dy/dz, with sigmoid' = y (1 - y)
    return dL_dz * x, dL_dz


def _no_activation_slope(x, w, b, target):
    dL_dy = _sigmoid(w @ x + b) - target
    return dL_dy * x, dL_dy


def _slope_from_z(x, w, b, target):
    z = w @ x + b
    dL_dz = (_sigmoid(z) - target) * z * (1 - z)
    return dL_dz * x, dL_dz


def _slope_is_y(x, w, b, target):
    y = _sigmoid(w @ x + b)
    dL_dz = (y - target) * y
    return dL_dz * x, dL_dz


sigmoid_neuron_backward = task_from_texts(globals(), "sigmoid_neuron_backward")
