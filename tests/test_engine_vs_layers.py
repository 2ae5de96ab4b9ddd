"""The two halves of the library teach the same maths: the scalar Value engine and the
vector layers must give identical losses and gradients on the same small network."""
import numpy as np
import pytest

from bplearn import engine, nn


def vector_copy_of(mlp: engine.MLP) -> nn.Sequential:
    """A bplearn.nn network with the scalar MLP's weights: Linear weight row j = neuron j."""
    layers = []
    for i, layer in enumerate(mlp.layers):
        nin, nout = len(layer.neurons[0].w), len(layer.neurons)
        linear = nn.Linear(nin, nout)
        linear.weight.data[...] = [[w.data for w in n.w] for n in layer.neurons]
        linear.bias.data[...] = [n.b.data for n in layer.neurons]
        layers.append(linear)
        if i < len(mlp.layers) - 1:
            layers.append(nn.Tanh() if layer.neurons[0].nonlin == "tanh" else nn.ReLU())
    return nn.Sequential(*layers)


@pytest.mark.parametrize("nonlin", ["tanh", "relu"])
def test_scalar_engine_and_vector_layers_agree_on_loss_and_every_gradient(nonlin, rng):
    mlp = engine.MLP(3, [4, 4, 1], nonlin=nonlin, rng=7)
    X, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 1))

    # Scalar engine: MSE written out with Values, one graph for the whole batch.
    preds = [mlp(list(row)) for row in X]
    scalar_loss = sum((p - t) ** 2 for p, t in zip(preds, y[:, 0])) / len(X)
    scalar_loss.backward()

    model, loss_fn = vector_copy_of(mlp), nn.MSELoss()
    vector_loss = loss_fn(model(X), y)
    model.backward(loss_fn.backward())

    assert vector_loss == pytest.approx(scalar_loss.data, rel=1e-12)
    for layer, linear in zip(mlp.layers, [m for m in model if isinstance(m, nn.Linear)]):
        dW = np.array([[w.grad for w in n.w] for n in layer.neurons])
        db = np.array([n.b.grad for n in layer.neurons])
        np.testing.assert_allclose(linear.weight.grad, dW, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(linear.bias.grad, db, rtol=1e-10, atol=1e-12)
