"""Recurrent layers, forward + backward through time, bplearn vs PyTorch (CPU).

RNN (tanh) and LSTM with input 16, hidden 64, 50 time steps, batch 32, batch first.
Targets: RNN <= 0.5 x torch time, LSTM <= 1.2 x torch time.

Both sides start from the same weights (``bplearn.models.to_torch``: the same (out, in)
layout; torch's two biases: bias_ih = ours, bias_hh = 0), see the same batch and get the
same upstream gradient dL/d(all hidden states); we check that the gradients agree before
timing. As in training, the torch input does not require a gradient, while bplearn's
backward also returns dL/dx.
In float32, torch's CPU nn.LSTM (and nn.RNN) run oneDNN's fused RNN kernels, one C++
call for the whole sequence, while bplearn runs one Python step per time step. An extra
row times torch's float32 LSTM with oneDNN switched off (its plain ATen loop), to show
how much of the gap is that fused kernel.
"""
from __future__ import annotations

import numpy as np

from bplearn import nn

from .common import checked_torch_step, row, set_torch_threads, time_interleaved, training_step

N, T, D, H = 32, 50, 16, 64
TARGETS = {"RNN": 0.5, "LSTM": 1.2}
NOTES = ("**RNN / LSTM.** torch's float32 nn.LSTM runs oneDNN's fused kernel, one C++ call for all 50 "
         "steps, while bplearn's LSTM is a readable Python loop over time steps, each step a handful of "
         "numpy calls; its float32 ratio is the closest to its target and moves by about 10% between runs "
         "on a shared machine. The 'oneDNN off' row times torch's own ATen loop instead. bplearn's backward "
         "also returns dL/dx, which torch skips because its input does not require a gradient.")


def run() -> list[dict]:
    torch = set_torch_threads()
    if torch is None:
        print("benchmarks.rnn: torch is not installed, skipped")
        return []
    rows = []
    for kind in ("RNN", "LSTM"):
        for dtype in (np.float32, np.float64):
            rng = np.random.default_rng(0)
            x = rng.standard_normal((N, T, D)).astype(dtype)
            dhs = rng.standard_normal((N, T, H)).astype(dtype)
            model = nn.Sequential(getattr(nn, kind)(D, H, rng=0)).to(dtype)
            steps = {"bplearn": training_step(model, x, dhs),
                     "torch": checked_torch_step(model, x, dhs, torch)}  # same weights via to_torch
            fused_kernel = kind == "LSTM" and dtype == np.float32
            if fused_kernel:
                def torch_aten_step(torch_step=steps["torch"]):
                    torch.backends.mkldnn.enabled = False
                    try:
                        torch_step()
                    finally:
                        torch.backends.mkldnn.enabled = True
                steps["torch_aten"] = torch_aten_step
            ms = time_interleaved(steps)
            name = f"{kind} fwd+bwd, T {T}, batch {N}, hidden {H}, {np.dtype(dtype).name}"
            rows.append(row(name, ms["bplearn"], f"torch nn.{kind}", ms["torch"], TARGETS[kind]))
            if fused_kernel:
                rows.append(row(name, ms["bplearn"], f"torch nn.{kind}, oneDNN off", ms["torch_aten"],
                                TARGETS[kind]))
    return rows
