"""A small CNN on MNIST-sized images, forward + backward, bplearn vs PyTorch (CPU).

conv8(3x3, pad 1) - ReLU - maxpool 2 - conv16(3x3, pad 1) - ReLU - maxpool 2 - flatten -
linear 10, batch 64 of 1x28x28 images. Target: bplearn time <= 1.0 x torch time.

Both sides start from the same weights, see the same batch and get the same upstream
gradient dL/d(logits), so they do the same arithmetic; we check that they agree
before timing. The torch input does not require a gradient (as in training), and
likewise bplearn's first layer has ``input_grad = False``.
"""
from __future__ import annotations

import numpy as np

from bplearn import nn

from .common import (checked_torch_step, layer_breakdown, row, set_torch_threads, time_interleaved,
                     training_step)

BATCH, TARGET = 64, 1.0
NOTES = ""          # filled in by run(): where bplearn's time goes, layer by layer


def build_bplearn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, rng=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10, rng=2),
    )


def run() -> list[dict]:
    torch = set_torch_threads()
    if torch is None:
        print("benchmarks.cnn: torch is not installed, skipped")
        return []
    rows = []
    for dtype in (np.float32, np.float64):
        rng = np.random.default_rng(0)
        x = rng.random((BATCH, 1, 28, 28)).astype(dtype)
        grad_logits = rng.standard_normal((BATCH, 10)).astype(dtype)
        model = build_bplearn()
        model.to(dtype)
        model[0].input_grad = False   # like torch: the data needs no gradient
        bplearn_step = training_step(model, x, grad_logits)
        torch_step = checked_torch_step(model, x, grad_logits, torch)
        ms = time_interleaved({"bplearn": bplearn_step, "torch": torch_step})
        rows.append(row(f"CNN fwd+bwd, batch {BATCH}, {np.dtype(dtype).name}", ms["bplearn"], "torch",
                        ms["torch"], TARGET))
        if dtype == np.float32:
            breakdown = layer_breakdown(model, x, grad_logits)
    global NOTES
    NOTES = ("**CNN, bplearn float32 layer by layer** (CPU ms, median of 20; the first Conv2d's backward "
             "skips dL/d(images), like torch):\n\n" + breakdown)
    return rows
