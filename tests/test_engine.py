"""Tests for bplearn.engine: scalar Value autograd, its graph export and the Value MLP.

Expected numbers come from hand derivations, from finite differences
(bplearn.gradcheck) or from torch autograd in float64, never from the engine itself.
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bplearn.engine import MLP, Layer, Neuron, Value
from bplearn.errors import DTypeError, ShapeError
from bplearn.gradcheck import check_values, compare, numerical_gradient

# (name, expression, point). The expressions only use operators and methods that
# torch tensors share (.exp, .log, .tanh, .relu, .sigmoid), so torch can rerun them.
OPS = [
    ("add", lambda a, b: a + b, (0.3, -1.2)),
    ("sub", lambda a, b: a - b, (0.3, -1.2)),
    ("mul", lambda a, b: a * b, (0.3, -1.2)),
    ("div", lambda a, b: a / b, (0.7, -1.3)),
    ("pow2", lambda a: a**2, (-0.7,)),
    ("pow3", lambda a: a**3, (1.3,)),
    ("pow_minus1", lambda a: a**-1, (0.6,)),
    ("pow_half", lambda a: a**0.5, (2.5,)),
    ("pow0", lambda a: a**0, (1.5,)),
    ("pow0_at_zero", lambda a: a**0, (0.0,)),
    ("neg", lambda a: -a, (0.4,)),
    ("exp", lambda a: a.exp(), (0.4,)),
    ("log", lambda a: a.log(), (1.7,)),
    ("tanh", lambda a: a.tanh(), (0.4,)),
    ("relu_positive", lambda a: a.relu(), (0.9,)),
    ("relu_negative", lambda a: a.relu(), (-0.9,)),
    ("sigmoid", lambda a: a.sigmoid(), (-0.6,)),
    ("number_right_add", lambda a: a + 2.5, (0.3,)),
    ("number_right_sub", lambda a: a - 2.5, (0.3,)),
    ("number_right_mul", lambda a: a * 2.5, (0.3,)),
    ("number_right_div", lambda a: a / 2.5, (0.3,)),
    ("number_left_add", lambda a: 2.5 + a, (0.3,)),
    ("number_left_sub", lambda a: 2.5 - a, (0.3,)),
    ("number_left_mul", lambda a: 2.5 * a, (0.3,)),
    ("number_left_div", lambda a: 2.5 / a, (-0.8,)),
    ("number_left_pow", lambda a: 2.5**a, (0.7,)),
    ("reuse", lambda a, b: a * a + a / b - b * a.exp(), (0.8, 1.9)),
    ("composite", lambda a, b, c: (a * b + c).tanh() - (a / (1 + b**2)).sigmoid() * (c.exp() + 3).log()
     + (2 - a).relu() * 0.5 + 2 / (b - 5) + (-c) ** 3, (0.3, -1.2, 0.7)),
]
OP_IDS = [name for name, _, _ in OPS]


@pytest.mark.parametrize("name, f, point", OPS, ids=OP_IDS)
def test_op_gradients_match_finite_differences(name, f, point):
    errors = check_values(f, *point)
    assert max(errors.values()) < 1e-6


@pytest.mark.parametrize("name, f, point", OPS, ids=OP_IDS)
def test_op_value_and_gradients_match_torch(torch, name, f, point):
    values = [Value(x) for x in point]
    out = f(*values)
    out.backward()

    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    expected = f(*tensors)
    expected.backward()

    assert out.data == pytest.approx(expected.item(), rel=1e-10, abs=1e-12)
    for v, t in zip(values, tensors):
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-10, abs=1e-12)


A, B = 3.0, -2.0
LOCAL_GRADS = [  # (expression, op name, parent labels, local grads) derived by hand at a = 3, b = -2
    (lambda a, b: a + b, "+", "ab", (1.0, 1.0)),
    (lambda a, b: a - b, "-", "ab", (1.0, -1.0)),
    (lambda a, b: a * b, "*", "ab", (-2.0, 3.0)),
    (lambda a, b: a / b, "/", "ab", (-0.5, -0.75)),             # 1/b, -a/b^2
    (lambda a, b: a**2, "**2", "a", (6.0,)),
    (lambda a, b: a**-1, "**-1", "a", (-1.0 / 9.0,)),
    (lambda a, b: -a, "neg", "a", (-1.0,)),
    (lambda a, b: a.exp(), "exp", "a", (math.e**3,)),
    (lambda a, b: a.log(), "log", "a", (1.0 / 3.0,)),
    (lambda a, b: a.tanh(), "tanh", "a", (1.0 - math.tanh(3.0) ** 2,)),
    (lambda a, b: a.relu(), "relu", "a", (1.0,)),
    (lambda a, b: b.relu(), "relu", "b", (0.0,)),
    (lambda a, b: b.sigmoid(), "sigmoid", "b", (math.e**2 / (1.0 + math.e**2) ** 2,)),  # e^-x/(1+e^-x)^2
    (lambda a, b: 2**a, "2**", "a", (8.0 * math.log(2.0),)),
]


@pytest.mark.parametrize("f, op, parents, local", LOCAL_GRADS,
                         ids=[f"{op}({p})" for _, op, p, _ in LOCAL_GRADS])
def test_each_op_records_its_name_parents_and_local_derivatives(f, op, parents, local):
    out = f(Value(A, "a"), Value(B, "b"))
    assert out.op == op
    assert "".join(p.label for p in out.parents) == parents
    assert out.local_grads == pytest.approx(local, rel=1e-12)
    assert all(type(g) is float for g in out.local_grads)


def test_leaf_has_no_op_no_parents_and_zero_grad():
    x = Value(3, "x")
    assert (x.data, x.grad, x.label, x.op, x.parents, x.local_grads) == (3.0, 0.0, "x", "", (), ())
    assert type(x.data) is float


def test_numpy_scalar_on_the_left_builds_a_value():
    x = Value(3.0)
    y = np.float64(2.0) * x
    y.backward()
    assert isinstance(y, Value) and y.data == 6.0 and x.grad == 2.0


# --- accumulation, backward twice, zero_grad -------------------------------------------------

def test_value_multiplied_by_itself_gets_both_paths():
    a = Value(-1.5)
    (a * a).backward()
    assert a.grad == -3.0  # d(a^2)/da = 2a


def test_value_added_to_itself_gets_gradient_two():
    a = Value(0.7)
    (a + a).backward()
    assert a.grad == 2.0


def test_value_used_in_two_branches_sums_branch_gradients():
    a, b = Value(0.5), Value(4.0)
    (a * b + a.exp()).backward()
    assert a.grad == pytest.approx(4.0 + math.exp(0.5), rel=1e-15)  # b + e^a
    assert b.grad == 0.5


def _tanh_times_a(a_val=0.5, b_val=-1.5):
    a, b = Value(a_val, "a"), Value(b_val, "b")
    return a, b, (a * b).tanh() * a


def test_backward_gradients_match_hand_derivation():
    a, b, y = _tanh_times_a()
    y.backward()
    t = math.tanh(0.5 * -1.5)
    assert a.grad == pytest.approx((1 - t * t) * -1.5 * 0.5 + t, rel=1e-14)  # (1-t^2) b a + t
    assert b.grad == pytest.approx((1 - t * t) * 0.5 * 0.5, rel=1e-14)       # (1-t^2) a a


def test_backward_twice_doubles_leaf_gradients_and_keeps_inner_ones():
    a, b, y = _tanh_times_a()
    y.backward()
    leaves_first = (a.grad, b.grad)
    inner = [n for n in y.topological_order() if n.parents]
    inner_first = [n.grad for n in inner]
    y.backward()
    assert (a.grad, b.grad) == (2 * leaves_first[0], 2 * leaves_first[1])
    assert [n.grad for n in inner] == inner_first


def test_two_losses_sharing_a_weight_accumulate_their_gradients():
    w = Value(2.0, "w")
    (w * 3.0).backward()
    (w**2).backward()
    assert w.grad == 3.0 + 4.0  # d(3w)/dw + d(w^2)/dw at w = 2


def test_zero_grad_resets_every_node_and_backward_then_starts_fresh():
    a, b, y = _tanh_times_a()
    y.backward()
    first = (a.grad, b.grad)
    y.zero_grad()
    assert all(n.grad == 0.0 for n in y.topological_order())
    y.backward()
    assert (a.grad, b.grad) == first


# --- deep graphs ------------------------------------------------------------------------------

def test_backward_through_10000_multiplications():
    x = Value(1.0)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(math.pow(1.0001, 10_000), rel=1e-10)


@pytest.mark.parametrize("n", [10_000, 100_000])
def test_backward_through_a_long_sum_chain(n):
    x = Value(0.25)
    y = x
    for _ in range(n):
        y = y + x  # x is used n + 1 times: dy/dx = n + 1, exactly
    y.backward()
    assert x.grad == n + 1
    assert y.data == 0.25 * (n + 1)
    assert len(y.topological_order()) == n + 1


def test_topological_order_puts_parents_first_and_lists_each_node_once():
    a, b = Value(1.0, "a"), Value(2.0, "b")
    c, d = a * b, a + b          # a diamond: a and b feed both c and d
    e = c * d + a
    order = e.topological_order()
    position = {id(n): i for i, n in enumerate(order)}
    assert len(order) == len(position) == 6
    assert order[-1] is e
    for node in order:
        assert all(position[id(p)] < position[id(node)] for p in node.parents)


def test_topological_order_reads_the_expression_left_to_right():
    a, b, c = Value(1.0, "a"), Value(2.0, "b"), Value(3.0, "c")
    ab = a * b
    ab.label = "ab"
    out = ab + c
    out.label = "out"
    assert [n.label for n in out.topological_order()] == ["a", "b", "ab", "c", "out"]


# --- graph export and repr -------------------------------------------------------------------

def test_to_graph_of_small_expression_matches_hand_drawing():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    d.backward()
    assert d.to_graph() == {
        "nodes": [
            {"id": 0, "label": "a", "op": "", "data": 2.0, "grad": -2.0},   # -3 via c, +1 directly
            {"id": 1, "label": "b", "op": "", "data": -3.0, "grad": 2.0},
            {"id": 2, "label": "c", "op": "*", "data": -6.0, "grad": 1.0},
            {"id": 3, "label": "d", "op": "+", "data": -4.0, "grad": 1.0},
        ],
        "edges": [(0, 2, -3.0), (1, 2, 2.0), (2, 3, 1.0), (0, 3, 1.0)],
    }


def test_to_graph_of_square_has_two_edges_from_the_same_parent():
    a = Value(1.5, "a")
    graph = (a * a).to_graph()
    assert len(graph["nodes"]) == 2
    assert graph["edges"] == [(0, 1, 1.5), (0, 1, 1.5)]


def test_repr_shows_data_grad_and_label():
    y = Value(0.8, "y")
    y.grad = 0.8 - 1.0  # -0.19999999999999996 shows as -0.2
    assert repr(y) == "Value(data=0.8, grad=-0.2, label='y')"
    assert repr(Value(2)) == "Value(data=2.0, grad=0.0)"


# --- the worked example: prediction 0.8, target 1.0 ----------------------------------------

def test_linear_neuron_seed_example_gradients_and_update():
    x1, x2 = 1.0, 0.5
    w1, w2, b = Value(0.5, "w1"), Value(0.4, "w2"), Value(0.1, "b")
    y = w1 * x1 + w2 * x2 + b
    loss = 0.5 * (y - 1.0) ** 2
    loss.backward()

    assert y.data == pytest.approx(0.8, abs=1e-15)
    assert 1.0 - y.data == pytest.approx(0.2, abs=1e-15)     # the error
    assert loss.data == pytest.approx(0.02, abs=1e-15)        # 0.5 * 0.2^2
    assert y.grad == pytest.approx(-0.2, abs=1e-15)           # dL/dy = y - t
    assert w1.grad == pytest.approx(-0.2, abs=1e-15)          # dL/dy * dy/dw1 = -0.2 * x1
    assert w2.grad == pytest.approx(-0.1, abs=1e-15)          # -0.2 * x2
    assert b.grad == pytest.approx(-0.2, abs=1e-15)           # -0.2 * 1

    lr = 0.1
    for p in (w1, w2, b):
        p.data -= lr * p.grad                                 # 0.52, 0.41, 0.12
    new_y = w1.data * x1 + w2.data * x2 + b.data
    assert new_y == pytest.approx(0.845, abs=1e-15)           # closer to the target 1.0


def test_sigmoid_neuron_seed_example_gradients_and_update():
    w, b = Value(math.log(4.0), "w"), Value(0.0, "b")          # sigmoid(ln 4) = 4/5
    y = (w * 1.0 + b).sigmoid()
    loss = 0.5 * (y - 1.0) ** 2
    loss.backward()

    assert y.data == pytest.approx(0.8, abs=1e-15)
    assert y.op == "sigmoid" and y.local_grads[0] == pytest.approx(0.16, abs=1e-15)  # y (1 - y)
    assert w.grad == pytest.approx(-0.2 * 0.16, abs=1e-15)    # dL/dy * dy/dz * dz/dw
    assert b.grad == pytest.approx(-0.032, abs=1e-15)

    w.data -= 1.0 * w.grad
    b.data -= 1.0 * b.grad
    new_y = (w * 1.0 + b).sigmoid().data
    assert new_y == pytest.approx(1 / (1 + 0.25 * math.exp(-0.064)), rel=1e-14)
    assert 0.8 < new_y < 1.0


# --- the Value MLP ------------------------------------------------------------------------------

def test_mlp_parameter_count_and_labels():
    model = MLP(3, [4, 4, 1], rng=0)
    params = model.parameters()
    assert len(params) == (3 * 4 + 4) + (4 * 4 + 4) + (4 * 1 + 1)
    labels = [p.label for p in params]
    assert labels[:5] == ["L0.N0.w0", "L0.N0.w1", "L0.N0.w2", "L0.N0.b", "L0.N1.w0"]
    assert labels[-1] == "L2.N0.b"
    assert len(set(labels)) == len(labels)
    assert all(-1 < p.data < 1 for p in params if ".w" in p.label)
    assert all(p.data == 0.0 for p in params if p.label.endswith(".b"))


def test_mlp_same_seed_gives_same_weights_and_other_seed_differs():
    first = [p.data for p in MLP(2, [3, 1], rng=7).parameters()]
    assert [p.data for p in MLP(2, [3, 1], rng=7).parameters()] == first
    assert [p.data for p in MLP(2, [3, 1], rng=np.random.default_rng(7)).parameters()] == first
    assert [p.data for p in MLP(2, [3, 1], rng=8).parameters()] != first


def test_linear_neuron_computes_weighted_sum_plus_bias():
    neuron = Neuron(2, nonlin="linear", rng=0)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.5, -2.0, 0.25
    assert neuron([4.0, 1.5]).data == 0.5 * 4.0 - 2.0 * 1.5 + 0.25


def test_layer_returns_one_value_per_neuron_and_mlp_unwraps_single_output():
    assert len(Layer(3, 5, rng=0)([1.0, 2.0, 3.0])) == 5
    assert len(MLP(3, [4, 2], rng=0)([1.0, 2.0, 3.0])) == 2
    assert isinstance(MLP(3, [4, 1], rng=0)([1.0, 2.0, 3.0]), Value)


def test_mlp_hidden_layers_use_nonlin_and_last_layer_is_linear():
    model = MLP(2, [3, 3, 1], nonlin="relu", rng=0)
    assert [layer.neurons[0].nonlin for layer in model.layers] == ["relu", "relu", "linear"]
    out = model([0.5, -0.5])
    assert (out.op, out.label) == ("+", "L2.N0.z")                      # w.x + b, no activation
    assert model.layers[0]([0.5, -0.5])[0].op == "relu"


@pytest.mark.parametrize("nonlin", ["tanh", "relu", "linear"])
def test_mlp_loss_gradients_match_finite_differences(nonlin):
    model = MLP(3, [4, 3, 1], nonlin=nonlin, rng=1)
    xs = [[0.5, -1.0, 2.0], [1.5, 0.2, -0.3], [-0.7, 0.8, 1.1], [0.1, -0.4, -1.6]]
    ys = [1.0, -1.0, 0.5, 0.0]

    def loss() -> Value:
        return sum(((model(x) - y) ** 2 for x, y in zip(xs, ys)), Value(0.0)) / len(xs)

    params = model.parameters()
    model.zero_grad()
    loss().backward()
    analytic = np.array([p.grad for p in params])

    theta = np.array([p.data for p in params])

    def loss_at_theta() -> float:  # numerical_gradient nudges theta; copy it into the weights
        for p, v in zip(params, theta):
            p.data = float(v)
        return loss().data

    assert compare(f"MLP({nonlin})", analytic, numerical_gradient(loss_at_theta, theta)) < 1e-6


def test_mlp_zero_grad_clears_every_parameter():
    model = MLP(2, [3, 1], rng=0)
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


# --- property test: random op sequences --------------------------------------------------------

# Each step maps the running value y and one input x to a new value. With |x| <= 1 every
# step keeps |y| below about 3 and has slopes of order 1, and none has a kink or a pole,
# so central differences are accurate to ~1e-9 and any gradient bug shows up clearly.
STEPS = {
    "add": lambda y, x: (y + x) * 0.5,
    "sub": lambda y, x: (x - y) * 0.5,
    "mul": lambda y, x: y * x,
    "div": lambda y, x: y / (1 + x**2),
    "rdiv": lambda y, x: x / (2 + y.tanh()),
    "tanh": lambda y, x: (y * x).tanh(),
    "sigmoid": lambda y, x: y.sigmoid() * x,
    "exp": lambda y, x: (y.tanh() * x).exp() - 1,
    "log": lambda y, x: (1 + y**2).log() * x,
    "neg": lambda y, x: -y,
    "pow": lambda y, x: (y.tanh() + x) ** 2 * 0.5,
    "rpow": lambda y, x: 1.5 ** y.tanh() * x,
}


@settings(max_examples=60, deadline=None)
@given(
    xs=st.tuples(*[st.floats(-1.0, 1.0)] * 3),
    steps=st.lists(st.tuples(st.sampled_from(sorted(STEPS)), st.integers(0, 2)), min_size=1, max_size=6),
)
def test_random_op_sequences_match_finite_differences(xs, steps):
    def f(*inputs):
        y = inputs[0]
        for name, i in steps:
            y = STEPS[name](y, inputs[i])
        return y

    assert max(check_values(f, *xs).values()) < 1e-6


# --- stability and clear errors ----------------------------------------------------------------

@pytest.mark.parametrize("x, expected", [(1e4, 1.0), (-1e4, 0.0), (800.0, 1.0), (-800.0, 0.0)])
def test_sigmoid_of_huge_inputs_is_finite_without_warnings(x, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = Value(x)
        s = v.sigmoid()
        s.backward()
    assert s.data == expected
    assert v.grad == 0.0


@pytest.mark.parametrize("x", [-30.0, -2.0, 0.0, 0.5, 30.0])
def test_sigmoid_matches_textbook_formula(x):
    assert Value(x).sigmoid().data == pytest.approx(1.0 / (1.0 + math.exp(-x)), rel=1e-15)


@pytest.mark.parametrize("x", [0.0, -1.0])
def test_log_of_non_positive_value_raises_clear_error(x):
    with pytest.raises(ValueError, match=rf"log needs a positive input, but 'x' = {x!r}"):
        Value(x, "x").log()


def test_division_by_zero_value_raises_clear_error():
    with pytest.raises(ZeroDivisionError, match=r"division by zero: 'd' in the denominator is 0.0"):
        Value(1.0) / Value(0.0, "d")
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        2.0 / Value(0.0)
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        Value(2.0) / 0


@pytest.mark.parametrize("bad", ["a", None, [1.0], Value(1.0)])
def test_value_of_non_number_raises_type_error_naming_it(bad):
    with pytest.raises(TypeError, match=r"Value\(data\) needs a plain real number .* but got "
                       + type(bad).__name__) as info:
        Value(bad)
    assert isinstance(info.value, DTypeError)


def test_adding_a_string_raises_type_error():
    with pytest.raises(TypeError, match="got str 'b'"):
        Value(1.0) + "b"


def test_power_errors_are_clear():
    with pytest.raises(ValueError, match=r"'x' = -8.0 is negative, so -8.0\*\*0.5 is not a real number"):
        Value(-8.0, "x") ** 0.5
    with pytest.raises(ZeroDivisionError, match=r"'x' is 0.0: x\*\*-1 or its derivative is infinite"):
        Value(0.0, "x") ** -1
    with pytest.raises(TypeError, match=r"Value \*\* n needs a plain number n"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(ValueError, match=r"c \*\* Value needs a positive number c"):
        (-2.0) ** Value(1.0)


def test_neuron_with_wrong_number_of_inputs_raises_shape_error():
    with pytest.raises(ShapeError, match="Neuron L0.N0 expected 3 inputs but got 2"):
        MLP(3, [2, 1], rng=0)([1.0, 2.0])


def test_unknown_activation_raises_clear_error():
    with pytest.raises(ValueError, match=r"unknown nonlin 'gelu'; choose one of \('tanh', 'relu', 'linear'\)"):
        Neuron(2, nonlin="gelu")


def test_relu_slope_at_zero_is_zero_like_torch(torch):
    v = Value(0.0)
    v.relu().backward()
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    t.relu().backward()
    assert v.grad == t.grad.item() == 0.0


# --- the backward recorder and non-finite values -------------------------------------------------
def test_backward_recorder_sees_the_seed_then_every_chain_rule_step_with_the_engines_numbers():
    w, x, b = Value(0.5, "w"), Value(2.0, "x"), Value(-0.2, "b")
    loss = (w * x + b) * w                                # w is used twice: two edges into w
    calls = []
    loss.backward(recorder=lambda node, parent, local, share: calls.append(
        (node, parent, local, share, None if parent is None else parent.grad)))
    assert calls[0] == (loss, None, None, 1.0, None)
    edges = sum(len(n.parents) for n in loss.topological_order())
    assert len(calls) == 1 + edges
    for node, parent, local, share, grad_then in calls[1:]:
        assert share == local * node.grad                 # the product the engine added
    into_w = [c for c in calls[1:] if c[1] is w]
    assert len(into_w) == 2 and into_w[-1][4] == w.grad   # the last step into w leaves its final grad
    # by hand: L = (w x + b) w -> dL/dw = 2 w x + b = 1.8
    assert w.grad == pytest.approx(1.8) and into_w[0][4] != w.grad


def test_backward_without_a_recorder_gives_the_same_gradients_as_with_one():
    def build():
        a, c = Value(0.3, "a"), Value(-1.1, "c")
        return (a * c).tanh() + a ** 2, a, c
    plain, a1, c1 = build()
    plain.backward()
    recorded, a2, c2 = build()
    recorded.backward(recorder=lambda *args: None)
    assert (a1.grad, c1.grad) == (a2.grad, c2.grad)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), np.float64("nan")])
def test_value_refuses_nan_and_inf_with_a_clear_error(bad):
    from bplearn.errors import NonFiniteError

    with pytest.raises(NonFiniteError, match=r"Value 'w' got (nan|inf|-inf): a Value must be a finite number"):
        Value(bad, "w")


def test_an_operation_that_overflows_to_inf_names_the_operation():
    from bplearn.errors import NonFiniteError

    with pytest.raises(NonFiniteError, match=r"the result of '\*' on \(1e\+200, 1e\+200\) is inf"):
        Value(1e200) * Value(1e200)
