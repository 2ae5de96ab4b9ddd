"""Judge spec of exercise 12 (format: docs/exercise_format.md)."""
import numpy as np

from bplearn.data import spirals
from bplearn.grading.spec import Exercise, Mistake, Mutant, Part, accuracy, probe


def Dense(ns, x, W, b, dout):
    """The learner's Dense on the judge's weights: (y, dx, dW, db) after one forward and one backward."""
    layer = ns["Dense"](W.copy(), b.copy())
    y = layer.forward(x)
    dx = layer.backward(dout)
    return y, dx, layer.dW, layer.db


def Relu(ns, x, dout):
    """The learner's Relu: (y, dx) after one forward and one backward."""
    layer = ns["Relu"]()
    y = layer.forward(x)
    return y, layer.backward(dout)


def train_mlp(ns, X, y, X_test):
    """Train the learner's network on the judge's spirals, then predict the judge's fresh ones."""
    layers = ns["train_mlp"](X, y, seed=0)
    return ns["predict"](layers, X_test)


def _dense_case(rng):
    N, D, H = (int(v) for v in rng.integers(2, 6, size=3))
    return {"x": rng.normal(size=(N, D)), "W": rng.normal(size=(H, D)), "b": rng.normal(size=H),
            "dout": rng.normal(size=(N, H))}


def _relu_case(rng):
    x = rng.normal(size=(int(rng.integers(2, 6)), int(rng.integers(2, 6))))
    return {"x": x, "dout": rng.normal(size=x.shape)}


def _spirals_case(rng):
    X, y = spirals(300, rng=int(rng.integers(2 ** 31)))
    X_test, labels = spirals(300, rng=int(rng.integers(2 ** 31)))
    return {"X": X, "y": y, "X_test": X_test, "_labels": labels}


def _dense(x, W, b, dout):
    return x @ W.T + b, dout @ W, dout.T @ x, dout.sum(axis=0)


def _relu(x, dout):
    return np.maximum(x, 0), dout * (x > 0)


def _relu_no_mask(x, dout):
    return np.maximum(x, 0), dout


def _relu_mask_of_dout(x, dout):
    return np.maximum(x, 0), dout * (dout > 0)


def _dense_db_mean(x, W, b, dout):
    return None, None, None, dout.mean(axis=0)


def _dense_part(pid, output, name, like, mistakes=()):
    return Part(pid, name, 1, probe(Dense), _dense_case, reference=_dense, output=output, like=like,
                mistakes=list(mistakes))


EXERCISE = Exercise(
    notebook="ex12_mlp_from_scratch",
    lesson="12",
    visible_seed=1212,
    parts=[
        _dense_part("ex12-dense-forward", 0, "Dense.forward's output", "(N, out)"),
        _dense_part("ex12-dense-dx", 1, "the dx Dense.backward returns", "x, (N, in)"),
        _dense_part("ex12-dense-dw", 2, "Dense.dW", "W, (out, in)"),
        _dense_part("ex12-dense-db", 3, "Dense.db", "b, (out,)",
                    [Mistake("averaged instead of summed", _dense_db_mean,
                             "dout already carries the loss's 1/N: sum it over the batch.")]),
        Part("ex12-relu", "the dx Relu.backward returns", 1, probe(Relu), _relu_case, reference=_relu, output=1,
             like="x",
             mistakes=[Mistake("no mask", _relu_no_mask, "ReLU passes gradient only where its INPUT was positive."),
                       Mistake("masked by dout's sign", _relu_mask_of_dout,
                               "the mask comes from the forward pass's input x > 0, not from dout.")]),
        Part("ex12-accuracy", "accuracy of your trained network on the grader's fresh spirals", 3,
             probe(train_mlp), _spirals_case, check=accuracy(0.9), cases=1),
    ],
    mutants=[
        Mutant("dW transposed", [("self.dW = dout.T @ self.x", "self.dW = self.x.T @ dout")],
               loses=["ex12-dense-dw", "ex12-accuracy"], says={"ex12-dense-dw": "transpose"}),
        Mutant("db averaged", [("self.db = dout.sum(axis=0)", "self.db = dout.mean(axis=0)")],
               loses=["ex12-dense-db"], says={"ex12-dense-db": "averaged instead of summed"}),
        Mutant("relu without mask", [("        return dout * self.mask\n", "        return dout\n")],
               loses=["ex12-relu", "ex12-accuracy"], says={"ex12-relu": "no mask", "ex12-accuracy": "below the 90%"}),
        Mutant("no hidden nonlinearity", [("Dense(rng.normal(0, np.sqrt(2 / 2), (hidden, 2)), np.zeros(hidden)), Relu(),",
                                           "Dense(rng.normal(0, np.sqrt(2 / 2), (hidden, 2)), np.zeros(hidden)),"),
                                          ("for layer in (layers[0], layers[2]):", "for layer in (layers[0], layers[1]):")],
               loses=["ex12-accuracy"], says={"ex12-accuracy": "held-out"}),
    ],
)
