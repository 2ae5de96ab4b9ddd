"""Lesson 07 (batch norm and residual connections): the learner's two your-turn tasks.

    batchnorm_backward   dx, dgamma, dbeta of y = gamma * (x - mean) / sqrt(var + eps) + beta
    residual_backward    dx, dW, db of the residual block y = x + tanh(x @ W.T + b)

Each task is checked on fresh random inputs; its Mistakes are the wrong answers learners
typically write, as code, so the check can name them.
"""
from __future__ import annotations

import numpy as np

from .yourturn import task_from_texts

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


batchnorm_backward = task_from_texts(globals(), "batchnorm_backward")


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


residual_backward = task_from_texts(globals(), "residual_backward")
