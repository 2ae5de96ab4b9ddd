"""Lesson 07 (batch norm and residual connections): the learner's two your-turn tasks.

    batchnorm_backward   dx, dgamma, dbeta of y = gamma * (x - mean) / sqrt(var + eps) + beta
    residual_backward    dx, dW, db of the residual block y = x + tanh(x @ W.T + b)

Each task is checked on fresh random inputs; its Mistakes are the wrong answers learners
typically write, as code, so the check can name them.
"""
from __future__ import annotations

import numpy as np

from .yourturn import Mistake, Task

LESSON = "07_batchnorm_residual.ipynb"


# --- batch norm backward ---------------------------------------------------------------------

def _bn_inputs(rng) -> dict:
    """A batch with features of very different means and spreads, so every path matters."""
    n, d = int(rng.integers(5, 9)), int(rng.integers(3, 5))
    x = rng.normal(loc=rng.normal(0, 3, size=d), scale=rng.uniform(0.5, 3, size=d), size=(n, d))
    return {"x": x, "gamma": rng.uniform(0.5, 2.0, size=d), "dy": rng.normal(size=(n, d)), "eps": 1e-5}


def _normalise(x, eps):
    """xhat (N, D) and s = 1 / sqrt(var + eps) (D,), per feature over the batch."""
    s = 1.0 / np.sqrt(x.var(axis=0) + eps)
    return (x - x.mean(axis=0)) * s, s


def _batchnorm_backward(x, gamma, dy, eps):
    """x, dy: (N, D); gamma: (D,) -> dx (N, D), dgamma (D,), dbeta (D,)."""
    n = x.shape[0]
    mu = x.mean(axis=0)                          # forward again, one small op at a time
    xc = x - mu                                  # (N, D) centred
    var = (xc ** 2).mean(axis=0)                 # (D,)
    s = 1.0 / np.sqrt(var + eps)                 # (D,) inverse standard deviation
    xhat = xc * s                                # (N, D)
    dbeta = dy.sum(axis=0)                       # y = gamma * xhat + beta
    dgamma = (dy * xhat).sum(axis=0)
    dxhat = dy * gamma                           # (N, D)
    dxc = dxhat * s                              # xhat = xc * s, path 1: through xc
    ds = (dxhat * xc).sum(axis=0)                # path 2: through s, summed over the batch
    dvar = -0.5 * s ** 3 * ds                    # s = (var + eps) ** -1/2
    dxc = dxc + dvar * 2.0 * xc / n              # var = mean(xc ** 2)
    dmu = -dxc.sum(axis=0)                       # xc = x - mu
    dx = dxc + dmu / n                           # mu = mean(x)
    return dx, dgamma, dbeta


def _bn_stats_as_constants(x, gamma, dy, eps):
    xhat, s = _normalise(x, eps)
    return dy * gamma * s, (dy * xhat).sum(axis=0), dy.sum(axis=0)


def _bn_without_mean_path(x, gamma, dy, eps):
    xhat, s = _normalise(x, eps)
    dxhat = dy * gamma
    dx = s * (dxhat - xhat * (dxhat * xhat).mean(axis=0))
    return dx, (dy * xhat).sum(axis=0), dy.sum(axis=0)


def _bn_without_variance_path(x, gamma, dy, eps):
    xhat, s = _normalise(x, eps)
    dxhat = dy * gamma
    return s * (dxhat - dxhat.mean(axis=0)), (dy * xhat).sum(axis=0), dy.sum(axis=0)


def _bn_variance_without_1_over_n(x, gamma, dy, eps):
    xhat, s = _normalise(x, eps)
    dxhat = dy * gamma
    dx = s * (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, (dy * xhat).sum(axis=0), dy.sum(axis=0)


def _bn_without_gamma(x, gamma, dy, eps):
    return _batchnorm_backward(x, np.ones_like(gamma), dy, eps)     # dgamma does not depend on gamma


def _bn_dgamma_from_x(x, gamma, dy, eps):
    dx, _, dbeta = _batchnorm_backward(x, gamma, dy, eps)
    return dx, (dy * x).sum(axis=0), dbeta


batchnorm_backward = Task(
    "batchnorm_backward",
    reference=_batchnorm_backward,
    inputs=_bn_inputs,
    outputs=("dx", "dgamma", "dbeta"),
    mistakes=[
        Mistake("mean and variance treated as constants", _bn_stats_as_constants,
                "dx = dy * gamma * s is only the direct path. The mean and the variance are computed "
                "from x too, so every x_j also reaches the loss through them: add the paths through "
                "mu and var (walk the graph backwards: xhat -> s -> var -> xc -> mu -> x)."),
        Mistake("the path through the mean is missing", _bn_without_mean_path,
                "You followed the variance but not the mean. xc = x - mu, and mu depends on every x_j: "
                "dmu = -(sum of dxc over the batch), and it adds dmu / N to every dx_j."),
        Mistake("the path through the variance is missing", _bn_without_variance_path,
                "You followed the mean but not the variance. s = 1/sqrt(var + eps) scales every xhat, "
                "so ds = sum over the batch of dxhat * xc, then dvar = -1/2 * s**3 * ds, and var = "
                "mean(xc**2) sends dvar * 2 * xc / N back into dxc."),
        Mistake("1/N missing in the variance path", _bn_variance_without_1_over_n,
                "var is a mean over the batch, var = (1/N) sum xc**2, so d var / d xc_j = 2 * xc_j / N. "
                "The 1/N in the variance path is missing."),
        Mistake("gamma left out of dxhat", _bn_without_gamma,
                "y = gamma * xhat + beta, so the gradient reaching xhat is dy * gamma, not dy."),
        Mistake("dgamma uses x instead of xhat", _bn_dgamma_from_x,
                "gamma multiplies the normalised xhat, not the raw x: dgamma = sum over the batch of dy * xhat."),
    ],
    nudge="Run the forward pass as small steps (mu, xc, var, s, xhat, y) and walk them backwards, "
          "one local derivative per step. x reaches the loss along three paths: directly, through mu "
          "and through var.",
    hint="dbeta = sum(dy), dgamma = sum(dy * xhat), dxhat = dy * gamma; then dxc = dxhat * s, "
         "ds = sum(dxhat * xc), dvar = -1/2 s**3 ds, dxc += dvar * 2 xc / N, dmu = -sum(dxc), "
         "dx = dxc + dmu / N (sums over the batch axis 0).",
    batch_size=lambda inputs: inputs["x"].shape[0],
    lesson=LESSON,
)


# --- residual block backward -------------------------------------------------------------------

def _res_inputs(rng) -> dict:
    n, d = int(rng.integers(3, 6)), int(rng.integers(3, 5))
    return {"x": rng.normal(size=(n, d)), "W": rng.normal(size=(d, d)), "b": rng.normal(size=d),
            "grad_out": rng.normal(size=(n, d))}


def _residual_backward(x, W, b, grad_out):
    """x, grad_out: (N, D); W: (D, D); b: (D,) -> dx (N, D), dW (D, D), db (D,)."""
    z = x @ W.T + b                              # (N, D) the branch's pre-activation
    dz = grad_out * (1.0 - np.tanh(z) ** 2)      # through tanh
    dW = dz.T @ x                                # (D, N) @ (N, D) -> (D, D)
    db = dz.sum(axis=0)                          # (D,)
    dx = grad_out + dz @ W                       # skip path + branch path
    return dx, dW, db


def _res_without_skip(x, W, b, grad_out):
    z = x @ W.T + b
    dz = grad_out * (1.0 - np.tanh(z) ** 2)
    return dz @ W, dz.T @ x, dz.sum(axis=0)


def _res_skip_only(x, W, b, grad_out):
    z = x @ W.T + b
    dz = grad_out * (1.0 - np.tanh(z) ** 2)
    return grad_out, dz.T @ x, dz.sum(axis=0)


def _res_without_tanh_slope(x, W, b, grad_out):
    return grad_out + grad_out @ W, grad_out.T @ x, grad_out.sum(axis=0)


def _res_slope_at_output(x, W, b, grad_out):
    y = x + np.tanh(x @ W.T + b)                 # the block's output, not the branch's
    dz = grad_out * (1.0 - y ** 2)
    return grad_out + dz @ W, dz.T @ x, dz.sum(axis=0)


def _res_transposed_w(x, W, b, grad_out):
    z = x @ W.T + b
    dz = grad_out * (1.0 - np.tanh(z) ** 2)
    return grad_out + dz @ W.T, x.T @ dz, dz.sum(axis=0)


residual_backward = Task(
    "residual_backward",
    reference=_residual_backward,
    inputs=_res_inputs,
    outputs=("dx", "dW", "db"),
    mistakes=[
        Mistake("the skip path is missing", _res_without_skip,
                "x is used twice, y = x + F(x), so its gradient is the sum of both paths: "
                "add grad_out itself (the skip) to the branch's gradient."),
        Mistake("the branch path is missing", _res_skip_only,
                "The skip path alone gives grad_out; the branch F(x) = tanh(x @ W.T + b) adds dz @ W."),
        Mistake("tanh's derivative is missing", _res_without_tanh_slope,
                "Between grad_out and the Linear inside the branch sits tanh: multiply by "
                "tanh'(z) = 1 - tanh(z)**2 before going through W."),
        Mistake("tanh's derivative taken at the block's output", _res_slope_at_output,
                "tanh'(z) belongs to the branch's own pre-activation z = x @ W.T + b, not to the "
                "block's output y = x + tanh(z)."),
        Mistake("W used the wrong way round", _res_transposed_w,
                "W has shape (out, in) and z = x @ W.T + b, so dx = dz @ W and dW = dz.T @ x. "
                "With a square W a transposed product still has the right shape, so only the values tell."),
    ],
    nudge="y = x + F(x): x is used twice. Find the gradient along each path and add them.",
    hint="z = x @ W.T + b; dz = grad_out * (1 - tanh(z)**2); dW = dz.T @ x; db = dz summed over the "
         "batch; dx = grad_out (the skip) + dz @ W (the branch).",
    batch_size=lambda inputs: inputs["x"].shape[0],
    lesson=LESSON,
)
