"""A small CNN on MNIST-sized images, one real training step, bplearn vs PyTorch (CPU).

conv8(3x3, pad 1) - ReLU - maxpool 2 - conv16(3x3, pad 1) - ReLU - maxpool 2 - flatten -
linear 10, batch 64 of 1x28x28 images. Target: bplearn time <= 1.0 x torch time.

The step is what fit runs per batch: zero_grad, forward, cross-entropy loss and its
backward, every layer's backward, an SGD update. Both sides start from the same
weights and see the same batch and labels, so they do the same arithmetic; we check
that they agree (and that bplearn changes no dtype) before timing. The torch input does not require a gradient (as in training), and
likewise bplearn's first layer has ``input_grad = False``.
"""
from __future__ import annotations

import numpy as np

from bplearn import nn

from .common import bplearn_step, checked_torch_step, layer_breakdown, row, set_torch_threads, time_interleaved

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
        labels = rng.integers(0, 10, BATCH)
        grad_logits = rng.standard_normal((BATCH, 10)).astype(dtype)   # only for the layer breakdown
        model = build_bplearn()
        model.to(dtype)
        model[0].input_grad = False   # like torch: the data needs no gradient
        steps = {"bplearn": bplearn_step(model, x, labels, "cross_entropy"),
                 "torch": checked_torch_step(model, x, labels, "cross_entropy", torch)}
        ms = time_interleaved(steps)
        rows.append(row(f"CNN training step, batch {BATCH}, {np.dtype(dtype).name}", ms["bplearn"], "torch",
                        ms["torch"], TARGET))
        if dtype == np.float32:
            breakdown = layer_breakdown(model, x, grad_logits)
    global NOTES
    NOTES = ("**CNN.** In float64 every array holds twice the bytes, and most of bplearn's CNN time outside the "
             "matmuls is whole-array passes (ReLU, pooling, im2col and col2im) whose cost is moving those bytes; "
             "torch fuses more of them, so bplearn's float64 step lands near 1.1 x torch while float32 meets its "
             "target. Train in float32 for speed (model.to(np.float32)); float64 is for gradient checks. "
             "bplearn float32 layer by layer (CPU ms, median of 20; the first Conv2d's backward skips "
             "dL/d(images), like torch):\n\n" + breakdown)
    return rows
