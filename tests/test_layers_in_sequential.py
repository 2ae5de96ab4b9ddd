"""Every layer is a Module like the rest: it sits in a Sequential, its gradients pass a
finite-difference check there, and ``train.fit`` trains the model it is part of.

Recurrent models included: Sequential(RNN, LastStep, Linear) and the LSTM equivalent.
"""
import numpy as np
import pytest

from bplearn import data, nn, optim, train
from bplearn.errors import DTypeError, NonFiniteError, ShapeError
from bplearn.gradcheck import check_module, compare, numerical_gradient


def _images(rng, n=64):
    return rng.standard_normal((n, 2, 6, 6))


def _sequences(rng, n=64):
    return rng.standard_normal((n, 5, 3))


def _tokens(rng, n=64):
    return rng.integers(0, 7, size=(n, 5))


# name -> (model builder, input maker). Each model ends in one output per sample, so the
# same regression target works for all of them.
MODELS = {
    "Linear": (lambda: nn.Sequential(nn.Linear(4, 1, rng=0)), lambda r: r.standard_normal((64, 4))),
    "ReLU": (lambda: nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 1, rng=1)),
             lambda r: r.standard_normal((64, 4))),
    "LeakyReLU": (lambda: nn.Sequential(nn.Linear(4, 8, rng=0), nn.LeakyReLU(0.1), nn.Linear(8, 1, rng=1)),
                  lambda r: r.standard_normal((64, 4))),
    "Sigmoid": (lambda: nn.Sequential(nn.Linear(4, 8, rng=0), nn.Sigmoid(), nn.Linear(8, 1, rng=1)),
                lambda r: r.standard_normal((64, 4))),
    "Tanh": (lambda: nn.Sequential(nn.Linear(4, 8, rng=0), nn.Tanh(), nn.Linear(8, 1, rng=1)),
             lambda r: r.standard_normal((64, 4))),
    "Softmax": (lambda: nn.Sequential(nn.Linear(4, 8, rng=0), nn.Softmax(), nn.Linear(8, 1, rng=1)),
                lambda r: r.standard_normal((64, 4))),
    "Identity": (lambda: nn.Sequential(nn.Linear(4, 8, rng=0), nn.Identity(), nn.Linear(8, 1, rng=1)),
                 lambda r: r.standard_normal((64, 4))),
    "BatchNorm1d": (lambda: nn.Sequential(nn.Linear(4, 8, rng=0), nn.BatchNorm1d(8), nn.Linear(8, 1, rng=1)),
                    lambda r: r.standard_normal((64, 4))),
    "Dropout": (lambda: nn.Sequential(nn.Linear(4, 8, rng=0), nn.Dropout(0.2, rng=0), nn.Linear(8, 1, rng=1)),
                lambda r: r.standard_normal((64, 4))),
    "Residual": (lambda: nn.Sequential(nn.Linear(4, 8, rng=0), nn.Residual(nn.Sequential(nn.Tanh(), nn.Linear(8, 8, rng=2))),
                                       nn.Linear(8, 1, rng=1)),
                 lambda r: r.standard_normal((64, 4))),
    "Conv2d+MaxPool2d+Flatten": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2),
                                                       nn.Flatten(), nn.Linear(27, 1, rng=1)), _images),
    "BatchNorm2d+AvgPool2d": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3, rng=0), nn.BatchNorm2d(3), nn.AvgPool2d(2),
                                                    nn.Flatten(), nn.Linear(12, 1, rng=1)), _images),
    "RNN+LastStep": (lambda: nn.Sequential(nn.RNN(3, 6, rng=0), nn.LastStep(), nn.Linear(6, 1, rng=1)), _sequences),
    "LSTM+LastStep": (lambda: nn.Sequential(nn.LSTM(3, 6, rng=0), nn.LastStep(), nn.Linear(6, 1, rng=1)), _sequences),
    "SelfAttention": (lambda: nn.Sequential(nn.SelfAttention(3, causal=True, rng=0), nn.LastStep(),
                                            nn.Linear(3, 1, rng=1)), _sequences),
    "Embedding+RNN": (lambda: nn.Sequential(nn.Embedding(7, 3, rng=0), nn.RNN(3, 6, rng=1), nn.LastStep(),
                                            nn.Linear(6, 1, rng=2)), _tokens),
}
# Layers whose forward is random in training mode or is fed integer ids: no finite differences.
NOT_DIFFERENTIABLE_IN_X = {"Dropout", "Embedding+RNN"}


def _layer_names(module) -> set:
    """Class names of a module and everything inside it (e.g. the layers of a Residual)."""
    return {type(module).__name__}.union(*(_layer_names(child) for child in module.children()))


def test_the_models_cover_every_layer_in_bplearn_nn():
    covered = set().union(*(_layer_names(build()) for build, _ in MODELS.values()))
    layers = {name for name in nn.__all__ if name not in ("Module", "Parameter", "Sequential")
              and not name.endswith("Loss")}
    assert layers <= covered, sorted(layers - covered)


@pytest.mark.parametrize("name", sorted(set(MODELS) - NOT_DIFFERENTIABLE_IN_X))
def test_every_layer_inside_sequential_matches_finite_differences(name):
    build, make_x = MODELS[name]
    model = build()
    x = make_x(np.random.default_rng(0))[:4]
    errors = check_module(model, x)
    assert max(errors.values()) < 1e-6, errors


def test_embedding_in_sequential_gets_the_weight_gradient_of_finite_differences():
    build, make_x = MODELS["Embedding+RNN"]
    model, idx = build(), make_x(np.random.default_rng(0))[:4]
    R = np.random.default_rng(1).standard_normal((4, 1))
    model.zero_grad()
    model(idx)
    assert model.backward(R) is None                        # token ids have no gradient
    numeric = numerical_gradient(lambda: float(np.sum(model(idx) * R)), model[0].weight.data)
    assert compare("embedding weight", model[0].weight.grad, numeric) < 1e-6


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_layer_trains_inside_sequential_with_fit(name):
    build, make_x = MODELS[name]
    rng = np.random.default_rng(0)
    x = make_x(rng)
    teacher = build()                                       # a target the model can represent
    teacher.eval()
    y = teacher(x) + 0.5
    model = build()
    for p in model.parameters():                            # start away from the teacher
        p.data += 0.3 * rng.standard_normal(p.shape)
    loss_fn = nn.MSELoss()
    before = train.evaluate(model, loss_fn, x, y, metrics=())["loss"]
    history = train.fit(model, loss_fn, optim.Adam(model.parameters(), lr=0.01), (x, y),
                        epochs=15, batch_size=16, progress=False)
    assert history.epochs == 15
    assert history["loss"][-1] < 0.5 * before, (before, history["loss"])


@pytest.mark.parametrize("recurrent", [nn.RNN, nn.LSTM])
def test_sequence_to_one_model_learns_the_adding_problem_with_fit(recurrent):
    # Sequential(RNN or LSTM, LastStep, Linear): read the sequence, answer once at the end.
    x, y = data.adding_problem(512, 8, rng=0)
    x_val, y_val = data.adding_problem(256, 8, rng=1)
    model = nn.Sequential(recurrent(2, 16, rng=0), nn.LastStep(), nn.Linear(16, 1, rng=1))
    baseline = float(np.mean((y_val - y.mean()) ** 2))     # always answering the mean
    history = train.fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.01), (x, y),
                        epochs=30, batch_size=32, val_data=(x_val, y_val), progress=False)
    assert history["val_loss"][-1] < 0.25 * baseline, (baseline, history["val_loss"][-5:])


@pytest.mark.parametrize("recurrent", [nn.RNN, nn.LSTM])
def test_recurrent_first_layer_can_skip_the_input_gradient(recurrent):
    x = np.random.default_rng(0).standard_normal((3, 4, 2))
    grads = []
    for input_grad in (True, False):
        layer = recurrent(2, 5, rng=0)
        layer.input_grad = input_grad
        hs = layer(x)
        dx = layer.backward(np.ones_like(hs))
        assert (dx is None) == (not input_grad)
        grads.append([p.grad for p in layer.parameters()] + [layer.grad_h0])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def test_last_step_backward_puts_the_gradient_at_the_last_step_only():
    x = np.arange(24, dtype=float).reshape(2, 4, 3)
    layer = nn.LastStep()
    np.testing.assert_array_equal(layer(x), x[:, -1])
    g = np.random.default_rng(0).standard_normal((2, 3))
    grad_in = layer.backward(g)
    assert grad_in.shape == x.shape
    np.testing.assert_array_equal(grad_in[:, -1], g)
    assert not grad_in[:, :-1].any()
    assert check_module(layer, x)["input0"] < 1e-8


def test_last_step_explains_wrong_shapes():
    layer = nn.LastStep()
    with pytest.raises(ShapeError, match=r"LastStep\(\) expected a batch of sequences of shape \(N, T, F\).*Got \(T, D\)\?"):
        layer(np.zeros((4, 3)))
    layer(np.zeros((2, 4, 3)))
    with pytest.raises(ShapeError, match=r"LastStep\(\)\.backward expected grad_out of shape \(2, 3\).*got \(2, 4, 3\)"):
        layer.backward(np.zeros((2, 4, 3)))


# --- one dtype policy, as in PyTorch ------------------------------------------------------------

def _float32_input(name, rng):
    x = MODELS[name][1](rng)[:8]
    return x if np.issubdtype(x.dtype, np.integer) else x.astype(np.float32)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_float32_model_keeps_float32_in_outputs_gradients_buffers_and_updates(name):
    model = MODELS[name][0]().to(np.float32)
    x = _float32_input(name, np.random.default_rng(0))
    out = model(x)
    loss_fn = nn.MSELoss()
    loss_fn(out, np.ones(out.shape))                        # float64 targets: data, cast to the predictions
    grad = loss_fn.backward()
    dx = model.backward(grad)
    arrays = {"output": out, "dL/doutput": grad} | ({"dx": dx} if dx is not None else {})
    arrays |= {f"{n}.grad": p.grad for n, p in model.named_parameters()}
    arrays |= {f"{type(m).__name__}.{b}": getattr(m, b) for m in model.modules() for b in m.buffers}
    optim.Adam(model.parameters(), lr=0.01).step()
    arrays |= {f"{n} after a step": p.data for n, p in model.named_parameters()}
    changed = {k: a.dtype for k, a in arrays.items() if a.dtype != np.float32}
    assert not changed, changed


@pytest.mark.parametrize("name", sorted(set(MODELS) - {"Embedding+RNN"}))
def test_a_float64_input_to_a_float32_model_is_refused_with_both_fixes(name):
    model = MODELS[name][0]().to(np.float32)
    x = MODELS[name][1](np.random.default_rng(0))[:4]       # float64
    with pytest.raises(DTypeError, match=r"has float32 parameters but the input is float64\. bplearn never casts "
                                         r"silently: call model\.to\(np\.float64\).*\.astype\(np\.float32\)"):
        model(x)


@pytest.mark.parametrize("name", sorted(set(MODELS) - {"Embedding+RNN"}))
def test_float16_is_not_supported(name):
    model = MODELS[name][0]()
    x = MODELS[name][1](np.random.default_rng(0))[:4].astype(np.float16)
    with pytest.raises(DTypeError, match=r"dtype float16 is not supported; bplearn computes in float32 or float64"):
        model(x)
    with pytest.raises(DTypeError, match=r"dtype float16 is not supported"):
        model.to(np.float16)


def test_integer_inputs_are_converted_to_the_layers_dtype():
    # Decision (documented in errors.as_float_array): integers are exact in either precision,
    # so a learner may write layer([[1, 0]]); PyTorch would refuse them.
    layer = nn.Linear(2, 1, rng=0).to(np.float32)
    assert layer(np.array([[1, 0]])).dtype == np.float32
    assert nn.Linear(2, 1, rng=0)([[1, 0]]).dtype == np.float64


@pytest.mark.parametrize("name", sorted(set(MODELS) - {"Embedding+RNN"}))
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_entering_a_model_names_its_first_layer(name, bad):
    model = MODELS[name][0]()
    x = MODELS[name][1](np.random.default_rng(0))[:4]
    x.flat[3] = bad
    first = model[0].short_name().replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")
    with pytest.raises(NonFiniteError, match=rf"^{first}: NaN or inf in the input \(1 of {x.size} values\)"):
        model(x)


def test_nan_created_inside_a_model_is_caught_by_the_next_layer():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 1, rng=1))
    model[0].weight.data[1, 2] = np.inf                     # the first layer now outputs inf and NaN
    with pytest.raises(NonFiniteError, match=r"^ReLU\(\): NaN or inf in the input"):
        model(np.ones((2, 3)))


def test_nan_in_a_gradient_is_caught_by_the_layer_it_enters():
    layer = nn.Linear(3, 2, rng=0)
    layer(np.ones((4, 3)))
    with pytest.raises(NonFiniteError, match=r"^Linear\(.*\): NaN or inf in the grad_out \(1 of 8 values\)"):
        layer.backward(np.where(np.arange(8).reshape(4, 2) == 5, np.nan, 1.0))


LOSSES = {
    "MSELoss": (nn.MSELoss(), lambda r: r.standard_normal((6, 2)), lambda r: r.standard_normal((6, 2))),
    "CrossEntropyLoss labels": (nn.CrossEntropyLoss(), lambda r: r.standard_normal((6, 3)),
                                lambda r: r.integers(0, 3, 6)),
    "CrossEntropyLoss probabilities": (nn.CrossEntropyLoss(), lambda r: r.standard_normal((6, 3)),
                                       lambda r: np.full((6, 3), 1 / 3)),
    "BCELoss": (nn.BCELoss(), lambda r: r.random((6, 1)), lambda r: r.integers(0, 2, (6, 1))),
    "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss(), lambda r: r.standard_normal((6, 1)),
                          lambda r: r.integers(0, 2, (6, 1)).astype(float)),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_loss_gradient_keeps_the_predictions_dtype(name, dtype):
    loss_fn, make_pred, make_target = LOSSES[name]
    rng = np.random.default_rng(0)
    pred = make_pred(rng).astype(dtype)
    loss_fn(pred, make_target(rng))                         # targets: int labels or float64 data
    assert loss_fn.backward().dtype == dtype


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_refuses_float16_and_names_nan_predictions(name):
    loss_fn, make_pred, make_target = LOSSES[name]
    rng = np.random.default_rng(0)
    pred, target = make_pred(rng), make_target(rng)
    with pytest.raises(DTypeError, match="float16 is not supported"):
        loss_fn(pred.astype(np.float16), target)
    pred[0, 0] = np.nan
    with pytest.raises(NonFiniteError, match=rf"^{type(loss_fn).__name__}\(.*\): NaN or inf in the "
                                             r"(prediction|logits)"):
        loss_fn(pred, target)
