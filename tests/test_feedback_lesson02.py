"""Lesson 02's your-turn tasks: references agree with the Value engine and finite differences,
stubs are not done, typical slips get their specific hint, and the committed notebooks show
the right verdicts."""

import numpy as np
import pytest

from bplearn.engine import Value
from bplearn.feedback import lesson02
from bplearn.feedback.yourturn import CORRECT, NOT_DONE, WRONG

TASKS = ["backward_pass", "neuron_backward", "sigmoid_neuron_backward"]


def numerical(loss, params, eps=1e-6):
    """Central differences of loss(params) for every entry of the array params."""
    grads = np.zeros_like(params)
    for i in range(params.size):
        up, down = params.copy(), params.copy()
        up[i] += eps
        down[i] -= eps
        grads[i] = (loss(up) - loss(down)) / (2 * eps)
    return grads


# --- the references ---------------------------------------------------------------------------

def test_backward_pass_reference_agrees_with_the_value_engine_on_a_reused_value():
    a, b = Value(1.5, "a"), Value(-0.7, "b")
    loss = (a * b + a) * a                         # a is used three times
    loss.backward()
    graph = loss.to_graph()
    grads = lesson02.backward_pass.reference(len(graph["nodes"]), graph["edges"])
    assert np.allclose(grads, [node["grad"] for node in graph["nodes"]])


@pytest.mark.parametrize("name, activation", [("neuron_backward", lambda z: z),
                                              ("sigmoid_neuron_backward", lambda z: 1 / (1 + np.exp(-z)))])
def test_neuron_references_match_finite_differences(name, activation):
    x, target = np.array([0.3, -0.8, 1.1]), 0.4
    params = np.array([0.2, 0.5, -0.3, 0.1])       # w1, w2, w3, b

    def loss(p):
        return 0.5 * (activation(p[:3] @ x + p[3]) - target) ** 2

    dw, db = getattr(lesson02, name).reference(x, params[:3], params[3], target)
    assert np.allclose(np.append(dw, db), numerical(loss, params), atol=1e-9)


def test_the_worked_example_gives_the_lessons_numbers():
    dw, db = lesson02.neuron_backward.reference(np.array([0.5, 1.0]), np.array([0.4, 0.5]), 0.1, 1.0)
    assert np.allclose(dw, [-0.1, -0.2]) and db == pytest.approx(-0.2)


@pytest.mark.parametrize("name", TASKS)
def test_each_reference_passes_its_own_check(name):
    task = getattr(lesson02, name)
    assert task.verdict(task.reference).status == CORRECT


@pytest.mark.parametrize("name", TASKS)
def test_an_untouched_stub_is_not_done_yet(name):
    def stub(*args):
        """Only a docstring and `...`, as the learner version ships it."""
        ...

    verdict = getattr(lesson02, name).verdict(stub)
    assert verdict.status == NOT_DONE and "not done yet" in verdict.message


# --- backward_pass: typical slips --------------------------------------------------------------

def test_overwriting_instead_of_adding_is_named():
    def backward_pass(n_nodes, edges):
        grads = np.zeros(n_nodes)
        grads[n_nodes - 1] = 1
        for parent, child, local in edges[::-1]:
            grads[parent] = grads[child] * local
        return grads

    verdict = lesson02.backward_pass.verdict(backward_pass)
    assert verdict.status == WRONG and verdict.mistakes == ["overwriting instead of adding up"]
    assert "Use grads[parent] += ..." in verdict.message


def test_walking_the_edges_forwards_is_named():
    def backward_pass(n_nodes, edges):
        grads = np.zeros(n_nodes)
        grads[-1] = 1.0
        for parent, child, local in edges:
            grads[parent] += local * grads[child]
        return grads

    assert "Loop over reversed(edges)" in lesson02.backward_pass.verdict(backward_pass).message


def test_forgetting_the_seed_is_named():
    def backward_pass(n_nodes, edges):
        grads = np.zeros(n_nodes)
        for parent, child, local in reversed(edges):
            grads[parent] += local * grads[child]
        return grads

    message = lesson02.backward_pass.verdict(backward_pass).message
    assert "all zeros" in message and "set grads[-1] = 1 first" in message


def test_a_python_list_result_is_explained():
    def backward_pass(n_nodes, edges):
        grads = [0.0] * n_nodes
        grads[-1] = 1.0
        for parent, child, local in reversed(edges):
            grads[parent] += local * grads[child]
        return grads

    assert "not a NumPy array" in lesson02.backward_pass.verdict(backward_pass).message


# --- neuron_backward: typical slips ------------------------------------------------------------

def test_target_minus_prediction_is_named_for_both_gradients():
    def neuron_backward(x, w, b, target):
        error = target - (np.dot(w, x) + b)
        return error * x, error

    verdict = lesson02.neuron_backward.verdict(neuron_backward)
    assert set(verdict.problems) == {"dw", "db"}
    assert "opposite sign" in verdict.message and "prediction minus target" in verdict.message


def test_multiplying_by_the_weights_is_named():
    def neuron_backward(x, w, b, target):
        y = np.sum(w * x) + b
        return (y - target) * w, y - target

    verdict = lesson02.neuron_backward.verdict(neuron_backward)
    assert "dw is wrong (db is right)" in verdict.message and "not the weight w_i" in verdict.message


def test_keeping_the_factor_two_is_named():
    def neuron_backward(x, w, b, target):
        y = w @ x + b
        return 2 * (y - target) * x, 2 * (y - target)

    message = lesson02.neuron_backward.verdict(neuron_backward).message
    assert "twice the expected value" in message and "cancels the 2" in message


def test_a_gradient_of_the_wrong_shape_is_explained():
    def neuron_backward(x, w, b, target):
        y = w @ x + b
        return (y - target) * x, (y - target) * np.ones(3)

    assert "db has shape (3,) but should have shape ()" in lesson02.neuron_backward.verdict(neuron_backward).message


# --- sigmoid_neuron_backward: typical slips ----------------------------------------------------

def test_the_missing_sigmoid_slope_is_named():
    def sigmoid_neuron_backward(x, w, b, target):
        y = 1 / (1 + np.exp(-(w @ x + b)))
        return (y - target) * x, y - target

    verdict = lesson02.sigmoid_neuron_backward.verdict(sigmoid_neuron_backward)
    assert verdict.mistakes[0] == "the sigmoid's derivative is missing"
    assert "multiply by dy/dz = y (1 - y)" in verdict.message


def test_the_slope_computed_from_z_is_named():
    def sigmoid_neuron_backward(x, w, b, target):
        z = w @ x + b
        y = 1 / (1 + np.exp(-z))
        delta = (y - target) * z * (1 - z)
        return delta * x, delta

    assert "use the output y, not z" in lesson02.sigmoid_neuron_backward.verdict(sigmoid_neuron_backward).message


def test_the_slope_without_one_minus_y_is_named():
    def sigmoid_neuron_backward(x, w, b, target):
        y = 1 / (1 + np.exp(-(w @ x + b)))
        return (y - target) * y * x, (y - target) * y

    assert "y (1 - y), not y" in lesson02.sigmoid_neuron_backward.verdict(sigmoid_neuron_backward).message
