"""The your-turn tasks of lesson 02 (computational graphs and the single neuron).

    from bplearn.feedback import lesson02
    backward_pass = lesson02.backward_pass.check(backward_pass)        # a whole graph, with +=
    neuron_backward = lesson02.neuron_backward.check(neuron_backward)  # the 0.8 -> 1.0 neuron
    sigmoid_neuron_backward = lesson02.sigmoid_neuron_backward.check(sigmoid_neuron_backward)

Neurons here are plain numpy: x, w of shape (n,), y = f(w @ x + b), L = ½ (y - target)².
"""
from __future__ import annotations

import numpy as np

from .yourturn import Mistake, Task

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


backward_pass = Task(
    "backward_pass", _backward_pass, _random_graph, "grads",
    mistakes=[
        Mistake("overwriting instead of adding up", _overwrites,
                "A node used by several others (or twice by one) must receive the sum of all their shares. "
                "Use grads[parent] += ..., not grads[parent] = ...."),
        Mistake("walking the edges forwards", _forward_order,
                "A node's gradient is complete only after every node that uses it has passed its share back. "
                "Loop over reversed(edges), from the loss towards the leaves."),
        Mistake("the local derivative was left out", _without_local,
                "Each edge scales the gradient by its local derivative: parent += local * (gradient of child)."),
        Mistake("no seed", _no_seed,
                "Nothing starts the pass. The loss changes one-for-one with itself: set grads[-1] = 1 first."),
    ],
    nudge="Start at the loss with dL/dL = 1. In which order must the edges be visited so that a child's "
          "gradient is finished before it is passed to the parent?",
    hint="grads = zeros; grads[-1] = 1; then for each edge from the last to the first: "
         "grads[parent] += local * grads[child].",
    lesson=LESSON,
)


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


_SIGN_HINT = ("dL/dy for L = ½(y - target)² is y - target (prediction minus target). It is negative when the "
              "prediction is too small, which tells gradient descent to raise it.")

neuron_backward = Task(
    "neuron_backward", _neuron_backward, _neuron_inputs, ("dw", "db"),
    mistakes=[
        Mistake("target - prediction instead of prediction - target", _target_minus_prediction, _SIGN_HINT),
        Mistake("the weights instead of the inputs", _times_the_weights,
                "z = w1·x1 + w2·x2 + ... + b, so dz/dw_i is the input x_i, not the weight w_i."),
        Mistake("the inputs were left out of dw", _without_the_input,
                "Each weight's share is the error times the input it multiplies: dz/dw_i = x_i."),
        Mistake("the ½ was ignored", _half_ignored,
                "The ½ in L = ½(y - target)² cancels the 2 from the square: dL/dy = y - target."),
    ],
    nudge="Compute the prediction y first. Then go back one step at a time: dL/dy, dy/dz, dz/dw.",
    hint="dL/dy = y - target; the activation is linear, so dy/dz = 1; dz/dw = x and dz/db = 1.",
    lesson=LESSON,
)


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


sigmoid_neuron_backward = Task(
    "sigmoid_neuron_backward", _sigmoid_neuron_backward, _neuron_inputs, ("dw", "db"),
    mistakes=[
        Mistake("the sigmoid's derivative is missing", _no_activation_slope,
                "That is the linear neuron's answer. The activation is a link of the chain too: multiply by "
                "dy/dz = y (1 - y)."),
        Mistake("the sigmoid's slope computed from z instead of y", _slope_from_z,
                "sigmoid'(z) = sigmoid(z) (1 - sigmoid(z)) = y (1 - y): use the output y, not z."),
        Mistake("the sigmoid's slope without (1 - y)", _slope_is_y,
                "The derivative of the sigmoid is y (1 - y), not y."),
    ],
    nudge="Same chain as the linear neuron, with one more link in the middle: dy/dz is no longer 1.",
    hint="y = sigmoid(z); dL/dz = (y - target) · y (1 - y); then dw = dL/dz · x and db = dL/dz.",
    lesson=LESSON,
)
