"""Judge spec of the toy exercise (the example in docs/exercise_format.md)."""
import numpy as np

from bplearn.grading.spec import Exercise, Mistake, Mutant, Part, accuracy, call, probe, solution, value


def affine_inputs(rng):
    n, d = int(rng.integers(2, 6)), int(rng.integers(2, 5))
    return {"dout": rng.normal(size=(n, d)), "x": rng.normal(size=(n, d)), "w": rng.normal(size=d)}


def big_batch(rng):
    return {"dout": rng.normal(size=(40, 3)), "x": rng.normal(size=(40, 3)), "w": rng.normal(size=3)}


def dw_mean(dout, x, w):
    return dout * w, (dout * x).mean(axis=0)


def dw_unsummed(dout, x, w):
    return dout * w, dout * x


def points_to_classify(rng):
    X = rng.normal(size=(200, 2))
    return {"X": X, "_labels": (X[:, 0] + X[:, 1] > 0).astype(int)}   # the labels never leave the judge


def tanh_points(rng):
    return {"x": rng.uniform(-2, 2, size=5)}


def run_checker_on_tanh(ns, x):
    """Runs in the sandbox: the learner's checker on a function the judge chose."""
    import numpy as np
    return ns["numerical_derivative"](np.tanh, x)


EXERCISE = Exercise(
    notebook="ex00_toy",
    lesson="01",
    parts=[
        Part("ex00-dx", "dx", 1, call("affine_backward"), affine_inputs, solution("affine_backward"),
             output=0, batch_size="dout", like="the input x, (N, D)"),
        Part("ex00-dw", "dw", 2, call("affine_backward"), affine_inputs, solution("affine_backward"),
             output=1, batch_size="dout", like="the weight w, (D,)",
             mistakes=[Mistake("averaged over the batch", dw_mean, "w is shared by the batch: sum, do not average."),
                       Mistake("batch axis kept", dw_unsummed, "sum dout * x over axis 0.")]),
        Part("ex00-dw-hidden", "dw (batch of 40)", 1, call("affine_backward"), big_batch,
             solution("affine_backward"), output=1, batch_size="dout", hidden=True, cases=1),
        Part("ex00-slope", "slope", 1, value("slope"), lambda rng: {}, lambda: 12.0, cases=1),
        Part("ex00-fd", "your numerical derivative of tanh", 1, probe(run_checker_on_tanh), tanh_points,
             lambda x: 1 - np.tanh(x) ** 2, rtol=1e-6, atol=1e-8),
        Part("ex00-predict", "predicted labels", 1, call("predict"), points_to_classify, check=accuracy(0.95),
             cases=1),
    ],
    mutants=[
        Mutant("dw-averaged", [("dw = (dout * x).sum(axis=0)", "dw = (dout * x).mean(axis=0)")],
               loses=["ex00-dw", "ex00-dw-hidden"], says={"ex00-dw": "averaged over the batch"}),
        Mutant("dx-sign", [("dx = dout * w", "dx = -dout * w")], loses=["ex00-dx"], says={"ex00-dx": "opposite sign"}),
        Mutant("slope-forgot-factor", [("slope = 12.0", "slope = 6.0")], loses=["ex00-slope"],
               says={"ex00-slope": "half the expected value"}),
        Mutant("forward-difference", [("(f(x + h) - f(x - h)) / (2 * h)", "(f(x + h) - f(x)) / h")],
               loses=["ex00-fd"]),
        Mutant("predict-wrong-line", [("X[:, 0] + X[:, 1] > 0", "X[:, 0] - X[:, 1] > 0")],
               loses=["ex00-predict"], says={"ex00-predict": "accuracy"}),
    ],
)
