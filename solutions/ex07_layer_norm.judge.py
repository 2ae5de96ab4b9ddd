"""Judge spec of exercise 7 (format: docs/exercise_format.md)."""
import numpy as np

from bplearn.grading.spec import Exercise, Mistake, Mutant, Part, call, solution

EPS = 1e-5


def _forward_case(rng):
    N, D = int(rng.integers(3, 7)), int(rng.integers(3, 7))
    return {"x": rng.normal(loc=rng.normal(size=(N, 1)), scale=rng.uniform(0.5, 3), size=(N, D)),
            "gamma": rng.normal(size=D), "beta": rng.normal(size=D), "eps": EPS}


def _backward_case(rng):
    case = _forward_case(rng)
    del case["beta"]
    case["dout"] = rng.normal(size=case["x"].shape)
    return case


def _one_example(rng):
    case = _backward_case(rng)
    return {**case, "x": case["x"][:1], "dout": case["dout"][:1]}


def _normalised(x, axis, ddof=0):
    return (x - x.mean(axis=axis, keepdims=True)) / np.sqrt(x.var(axis=axis, ddof=ddof, keepdims=True) + EPS)


def _forward_over_batch(x, gamma, beta, eps):
    return gamma * _normalised(x, 0) + beta


def _forward_unbiased(x, gamma, beta, eps):
    return gamma * _normalised(x, 1, ddof=1) + beta


def _backward_constants(dout, x, gamma, eps):
    inv_std = 1 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    x_hat = (x - x.mean(axis=1, keepdims=True)) * inv_std
    return dout * gamma * inv_std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _backward_mean_path_only(dout, x, gamma, eps):
    inv_std = 1 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    g = dout * gamma
    return inv_std * (g - g.mean(axis=1, keepdims=True)), None, None


def _backward_over_batch(dout, x, gamma, eps):
    inv_std = 1 / np.sqrt(x.var(axis=0, keepdims=True) + eps)
    x_hat = (x - x.mean(axis=0, keepdims=True)) * inv_std
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=0, keepdims=True) - x_hat * (g * x_hat).mean(axis=0, keepdims=True))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def _dgamma_without_x_hat(dout, x, gamma, eps):
    return None, dout.sum(axis=0), None


EXERCISE = Exercise(
    notebook="ex07_layer_norm",
    lesson="07",
    visible_seed=707,
    parts=[
        Part("ex07-forward", "layernorm_forward's output", 2, call("layernorm_forward"), _forward_case,
             reference=solution("layernorm_forward"), like="x, (N, D)",
             mistakes=[Mistake("normalised over the batch (that is batch norm)", _forward_over_batch,
                               "layer norm takes the mean and variance of each ROW: axis=1, keepdims=True."),
                       Mistake("the unbiased variance", _forward_unbiased,
                               "divide by D, not D - 1: x.var(axis=1) with its default ddof=0.")]),
        Part("ex07-dx", "dx", 3, call("layernorm_backward"), _backward_case, reference=solution("layernorm_backward"),
             output=0, like="x, (N, D)",
             mistakes=[Mistake("mean and variance treated as constants", _backward_constants,
                               "mu and sigma**2 depend on every x of the row: two more terms, one for each path."),
                       Mistake("the path through the variance missing", _backward_mean_path_only,
                               "subtract x_hat * mean(g * x_hat) too: that is the path through sigma**2."),
                       Mistake("means taken over the batch", _backward_over_batch,
                               "the bars are means over the D features of one row (axis=1).")]),
        Part("ex07-dgamma", "dgamma", 1, call("layernorm_backward"), _backward_case,
             reference=solution("layernorm_backward"), output=1, like="gamma, (D,)",
             mistakes=[Mistake("x_hat missing", _dgamma_without_x_hat, "y = gamma * x_hat + beta, so dgamma sums dout * x_hat.")]),
        Part("ex07-dbeta", "dbeta", 1, call("layernorm_backward"), _backward_case,
             reference=solution("layernorm_backward"), output=2, like="beta, (D,)"),
        Part("ex07-dx-one-example", "dx for a batch of one example", 1, call("layernorm_backward"), _one_example,
             reference=solution("layernorm_backward"), output=0, like="x, (1, D)", hidden=True, cases=1,
             mistakes=[Mistake("means taken over the batch", _backward_over_batch,
                               "the bars are means over the D features of one row (axis=1).")]),
    ],
    mutants=[
        Mutant("batch axis", [("mu = x.mean(axis=1, keepdims=True)                   # (N, 1)\n    inv_std = 1 / np.sqrt(x.var(axis=1, keepdims=True) + eps)",
                               "mu = x.mean(axis=0, keepdims=True)\n    inv_std = 1 / np.sqrt(x.var(axis=0, keepdims=True) + eps)")],
               loses=["ex07-forward"], says={"ex07-forward": "batch norm"}),
        Mutant("constants", [("dx = inv_std * (g - g.mean(axis=1, keepdims=True) - x_hat * (g * x_hat).mean(axis=1, keepdims=True))",
                              "dx = inv_std * g")],
               loses=["ex07-dx", "ex07-dx-one-example"], says={"ex07-dx": "treated as constants"}),
        Mutant("no variance path", [(" - x_hat * (g * x_hat).mean(axis=1, keepdims=True))", ")")],
               loses=["ex07-dx", "ex07-dx-one-example"], says={"ex07-dx": "variance missing"}),
        Mutant("dgamma per example", [("(dout * x_hat).sum(axis=0)", "dout * x_hat")],
               loses=["ex07-dgamma"], says={"ex07-dgamma": "sum over axis 0"}),
        Mutant("dbeta not summed", [("dout.sum(axis=0)\n", "dout.sum()\n")],
               loses=["ex07-dbeta"]),
    ],
)
