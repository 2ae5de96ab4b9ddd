"""Module / Parameter / Sequential machinery and the Linear layer."""
import numpy as np
import pytest

from bplearn.errors import BackwardBeforeForwardError, DTypeError, ShapeError
from bplearn.gradcheck import check_module
from bplearn.nn.activations import ReLU, Tanh
from bplearn.nn.linear import Linear
from bplearn.nn import Module, Parameter, Sequential


class TwoHeads(Module):
    """A custom module with a child attribute and a list of children (not named "layers")."""

    def __init__(self):
        self.scale = Parameter(np.ones(3), "scale")
        self.encoder = Linear(2, 3, rng=0)
        self.heads = [Linear(3, 1, rng=1), Linear(3, 1, rng=2)]


# --- Parameter ------------------------------------------------------------------------------

def test_parameter_starts_with_zero_grad_of_the_same_shape_and_is_float64():
    p = Parameter([[1, 2], [3, 4]], "w")
    assert p.data.dtype == np.float64 and p.shape == (2, 2)
    np.testing.assert_array_equal(p.grad, np.zeros((2, 2)))
    assert repr(p) == "Parameter(w, shape=(2, 2))"


def test_parameter_keeps_float32_and_copies_its_data():
    source = np.ones(3, dtype=np.float32)
    p = Parameter(source)
    assert p.data.dtype == np.float32 and p.grad.dtype == np.float32
    p.data[0] = 5.0
    assert source[0] == 1.0


# --- parameters(), names, zero_grad, train/eval -------------------------------------------

def test_sequential_parameters_come_in_layer_order_with_dotted_names():
    model = Sequential(Linear(2, 3), ReLU(), Linear(3, 1))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [p.shape for p in model.parameters()] == [(3, 2), (3,), (1, 3), (1,)]
    assert model.parameters()[0] is model[0].weight


def test_nested_sequential_names_join_indices_with_dots():
    model = Sequential(Sequential(Linear(2, 3), Tanh()), Linear(3, 1, bias=False))
    assert [name for name, _ in model.named_parameters()] == ["0.0.weight", "0.0.bias", "1.weight"]


def test_custom_module_finds_attributes_and_lists_of_modules():
    names = [name for name, _ in TwoHeads().named_parameters()]
    assert names == ["scale", "encoder.weight", "encoder.bias", "heads.0.weight", "heads.0.bias",
                     "heads.1.weight", "heads.1.bias"]


def test_shared_parameter_is_listed_once():
    first, second = Linear(3, 3, rng=0), Linear(3, 3, rng=1)
    second.weight = first.weight                         # weight tying
    params = Sequential(first, Tanh(), second).parameters()
    assert len(params) == 3
    assert len({id(p) for p in params}) == 3


def test_module_used_twice_contributes_its_parameters_once():
    layer = Linear(2, 2)
    assert len(Sequential(layer, ReLU(), layer).parameters()) == 2


def test_zero_grad_clears_every_gradient_in_place(rng):
    model = Sequential(Linear(2, 3), ReLU(), Linear(3, 1))
    model(rng.normal(size=(4, 2)))
    model.backward(np.ones((4, 1)))
    grads = [p.grad for p in model.parameters()]
    assert any(np.any(g != 0) for g in grads)
    model.zero_grad()
    for p, g in zip(model.parameters(), grads):
        assert p.grad is g                               # optimisers may hold a reference
        np.testing.assert_array_equal(p.grad, 0.0)


def test_backward_after_zero_grad_gives_exactly_one_pass_of_gradient_in_the_same_array(rng):
    # zero_grad() writes no zeros; the next backward writes dL/dW straight into .grad.
    # Its value must not include the gradients from before zero_grad().
    layer = Linear(3, 2, rng=0)
    x, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer(x)
    layer.backward(5 * g)
    array = layer.weight.grad
    layer.zero_grad()
    layer.backward(g)
    assert layer.weight.grad is array
    np.testing.assert_allclose(layer.weight.grad, g.T @ x)
    np.testing.assert_allclose(layer.bias.grad, g.sum(axis=0))
    layer.backward(g)                                    # no zero_grad: it accumulates again
    np.testing.assert_allclose(layer.weight.grad, 2 * g.T @ x)


def test_parameter_add_product_accumulates_unless_just_zeroed(rng):
    p = Parameter(np.ones((2, 3)))
    a, b = rng.normal(size=(2, 4)), rng.normal(size=(4, 3))
    p.add_product(a, b)
    np.testing.assert_allclose(p.grad, a @ b)           # starts at zero
    p.add_product(a, b)
    np.testing.assert_allclose(p.grad, 2 * a @ b)
    p.zero_grad()
    p.add_product(a, b)
    np.testing.assert_allclose(p.grad, a @ b)
    p.grad = np.full((2, 3), 7.0)                       # a gradient set by hand is kept
    p.add_product(a, b)
    np.testing.assert_allclose(p.grad, 7.0 + a @ b)


def test_train_and_eval_reach_every_nested_child():
    inner = Sequential(Linear(2, 2), ReLU())
    model = Sequential(inner, TwoHeads())
    everything = [model, inner, inner[0], inner[1], model[1], model[1].encoder, *model[1].heads]
    assert model.eval() is model
    assert not any(m.training for m in everything)
    model.train()
    assert all(m.training for m in everything)


def test_sequential_rejects_a_class_instead_of_an_instance():
    with pytest.raises(TypeError, match=r"argument 1 is <class '.*ReLU'>\. Did you pass a class instead of "
                                        r"an instance, e\.g\. ReLU instead of ReLU\(\)\?"):
        Sequential(Linear(2, 2), ReLU)


def test_sequential_backward_runs_the_layers_in_reverse(rng):
    model = Sequential(Linear(3, 4, rng=0), Tanh(), Linear(4, 2, rng=1))
    errors = check_module(model, rng.normal(size=(5, 3)))
    assert set(errors) == {"input0", "0.weight", "0.bias", "2.weight", "2.bias"}
    assert max(errors.values()) < 1e-6


def test_sequential_indexing_length_iteration_and_repr():
    model = Sequential(Linear(2, 3), ReLU())
    assert len(model) == 2 and isinstance(model[1], ReLU) and list(model) == model.layers
    assert repr(model) == ("Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n"
                           "  (1): ReLU()\n)")


# --- Linear ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3)], ids=["2d", "3d"])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_backward_matches_finite_differences(shape, bias, rng):
    layer = Linear(3, 2, bias=bias, rng=7)
    if bias:
        layer.bias.data[...] = rng.normal(size=2)           # a nonzero bias, so it is really checked
    errors = check_module(layer, rng.normal(size=shape))
    assert set(errors) == ({"input0", "weight", "bias"} if bias else {"input0", "weight"})
    assert max(errors.values()) < 1e-6


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3)], ids=["2d", "3d"])
def test_linear_matches_torch_linear(shape, torch, rng):
    layer = Linear(3, 4, rng=3)
    layer.bias.data[...] = rng.normal(size=4)
    ref = torch.nn.Linear(3, 4, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(layer.weight.data))
        ref.bias.copy_(torch.tensor(layer.bias.data))
    x, g = rng.normal(size=shape), rng.normal(size=shape[:-1] + (4,))

    out = layer(x)
    grad_in = layer.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_in, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.weight.grad, ref.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.bias.grad, ref.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_linear_shape_error_names_the_layer_and_both_shapes():
    with pytest.raises(ShapeError, match=r"^Linear\(in_features=3, out_features=2, bias=True\) expected input "
                                         r"of shape \(N, 3\) but got \(4, 5\)\. The last axis must hold the "
                                         r"in_features\."):
        Linear(3, 2)(np.zeros((4, 5)))


def test_linear_rejects_a_single_vector_and_says_how_many_dimensions():
    with pytest.raises(ShapeError, match=r"expected input of shape \(N, 3\) but got \(3,\)\. It needs 2 "
                                         r"dimensions, the input has 1\."):
        Linear(3, 2)(np.zeros(3))


def test_linear_rejects_strings_with_dtype_error():
    with pytest.raises(DTypeError, match=r"Linear: the input has dtype <U1"):
        Linear(1, 1)(np.array([["x"]]))


def test_linear_backward_before_forward_says_run_forward_first():
    with pytest.raises(BackwardBeforeForwardError, match=r"^Linear\(in_features=3, out_features=2, bias=True\)"
                                                         r"\.backward\(\) was called before forward\(\)\. Run the "
                                                         r"forward pass first"):
        Linear(3, 2).backward(np.ones((1, 2)))


def test_linear_backward_rejects_a_transposed_grad_out_instead_of_reshaping_it(rng):
    layer = Linear(3, 2)
    layer.input_grad = False                 # even as a first layer, where dL/dx is never formed
    layer(rng.normal(size=(4, 3)))
    with pytest.raises(ShapeError, match=r"^Linear\(in_features=3, out_features=2, bias=True\)\.backward expected "
                                         r"grad_out of shape \(4, 2\) \(the shape of the forward output it is the gradient of\) but got "
                                         r"\(2, 4\)\."):
        layer.backward(np.ones((2, 4)))
    assert not layer.weight.grad.any()       # refused before any gradient was added


def test_linear_gradients_accumulate_over_two_backward_calls(rng):
    layer = Linear(3, 2, rng=0)
    x, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer(x)
    layer.backward(g)
    once = layer.weight.grad.copy(), layer.bias.grad.copy()
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * once[0])
    np.testing.assert_allclose(layer.bias.grad, 2 * once[1])
    np.testing.assert_allclose(once[0], g.T @ x)                 # independent: dL/dW = g^T x
    np.testing.assert_allclose(once[1], g.sum(axis=0))


def test_linear_without_bias_has_only_a_weight(rng):
    layer = Linear(3, 2, bias=False, rng=0)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(layer(x), x @ layer.weight.data.T)


def test_linear_init_is_reproducible_with_a_seed_and_differs_between_seeds():
    np.testing.assert_array_equal(Linear(4, 3, rng=5).weight.data, Linear(4, 3, rng=5).weight.data)
    np.testing.assert_array_equal(Linear(4, 3, rng=np.random.default_rng(5)).weight.data,
                                  Linear(4, 3, rng=5).weight.data)
    assert not np.allclose(Linear(4, 3, rng=5).weight.data, Linear(4, 3, rng=6).weight.data)
    np.testing.assert_array_equal(Linear(4, 3).bias.data, 0.0)


@pytest.mark.parametrize("init, variance", [
    ("kaiming_uniform", lambda fan_in, fan_out: 2 / fan_in),
    ("kaiming_normal", lambda fan_in, fan_out: 2 / fan_in),
    ("xavier_uniform", lambda fan_in, fan_out: 2 / (fan_in + fan_out)),
    ("xavier_normal", lambda fan_in, fan_out: 2 / (fan_in + fan_out)),
])
def test_init_variance_is_close_to_theory(init, variance):
    fan_in, fan_out = 400, 1000                          # 400k weights: sample variance within ~0.2% (1 s.e.)
    w = Linear(fan_in, fan_out, init=init, rng=11).weight.data
    assert w.shape == (fan_out, fan_in)
    assert abs(w.mean()) < 0.01 * np.sqrt(variance(fan_in, fan_out))
    assert w.var() == pytest.approx(variance(fan_in, fan_out), rel=0.02)


def test_unknown_init_lists_the_choices_and_names_he_and_glorot():
    with pytest.raises(ValueError, match=r"unknown init 'he'; choose one of \['kaiming_normal', .*"
                                         r"He initialisation is called 'kaiming_\*' here"):
        Linear(2, 2, init="he")


def test_first_layer_without_input_grad_returns_none_and_keeps_parameter_grads(rng):
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    full, skipping = Linear(3, 2, rng=5), Linear(3, 2, rng=5)
    skipping.input_grad = False
    assert full(x) is not None and skipping(x) is not None
    dx = full.backward(g)
    assert dx.shape == (4, 3)
    assert skipping.backward(g) is None
    np.testing.assert_array_equal(skipping.weight.grad, full.weight.grad)
    np.testing.assert_array_equal(skipping.bias.grad, full.bias.grad)


def test_module_to_casts_parameters_and_grads():
    model = Sequential(Linear(3, 2, rng=0), Linear(2, 1, rng=1)).to(np.float32)
    assert all(p.data.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())
    out = model(np.ones((2, 3), dtype=np.float32))
    assert out.dtype == np.float32
