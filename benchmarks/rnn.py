"""Recurrent layers, forward + backward through time, bplearn vs PyTorch (CPU).

RNN (tanh) and LSTM with input 16, hidden 64, 50 time steps, batch 32, batch first.
Targets: RNN <= 0.5 x torch time, LSTM <= 1.2 x torch time.

Both sides start from the same weights (torch's two biases: bias_ih = ours,
bias_hh = 0), see the same batch and get the same upstream gradient dL/d(all hidden
states); we check that the gradients agree before timing. As in training, the torch
input does not require a gradient, while bplearn's backward also returns dL/dx.
In float32, torch's CPU nn.LSTM (and nn.RNN) run oneDNN's fused RNN kernels, one C++
call for the whole sequence, while bplearn runs one Python step per time step. An extra
row times torch's float32 LSTM with oneDNN switched off (its plain ATen loop), to show
how much of the gap is that fused kernel.
"""
from __future__ import annotations

import numpy as np

from bplearn import nn

from .common import row, set_torch_threads, time_interleaved

N, T, D, H = 32, 50, 16, 64
TARGETS = {"RNN": 0.5, "LSTM": 1.2}
NOTES = ("**RNN / LSTM.** torch's float32 nn.LSTM runs oneDNN's fused kernel, one C++ call for all 50 "
         "steps, while bplearn's LSTM is a readable Python loop over time steps, each step a handful of "
         "numpy calls; its float32 ratio is the closest to its target and moves by about 10% between runs "
         "on a shared machine. The 'oneDNN off' row times torch's own ATen loop instead. bplearn's backward "
         "also returns dL/dx, which torch skips because its input does not require a gradient.")


def _pair(kind: str, torch, dtype, tdtype):
    """A bplearn layer and a torch layer with identical weights."""
    if kind == "RNN":
        layer = nn.RNN(D, H, rng=0).to(dtype)
        tlayer = torch.nn.RNN(D, H, batch_first=True).to(tdtype)
        weights = (layer.W_xh, layer.W_hh, layer.b_h)
    else:
        layer = nn.LSTM(D, H, rng=0).to(dtype)
        tlayer = torch.nn.LSTM(D, H, batch_first=True).to(tdtype)
        weights = (layer.W_x, layer.W_h, layer.b)
    W_in, W_rec, bias = weights
    with torch.no_grad():                                   # torch stores W.T and two biases
        tlayer.weight_ih_l0.copy_(torch.from_numpy(W_in.data.T.copy()))
        tlayer.weight_hh_l0.copy_(torch.from_numpy(W_rec.data.T.copy()))
        tlayer.bias_ih_l0.copy_(torch.from_numpy(bias.data.copy()))
        tlayer.bias_hh_l0.zero_()
    return layer, tlayer, weights


def run() -> list[dict]:
    torch = set_torch_threads()
    if torch is None:
        print("benchmarks.rnn: torch is not installed, skipped")
        return []
    rows = []
    for kind in ("RNN", "LSTM"):
        for dtype, tdtype in ((np.float32, torch.float32), (np.float64, torch.float64)):
            rng = np.random.default_rng(0)
            x = rng.standard_normal((N, T, D)).astype(dtype)
            dhs = rng.standard_normal((N, T, H)).astype(dtype)
            layer, tlayer, weights = _pair(kind, torch, dtype, tdtype)
            tx, tdhs = torch.from_numpy(x), torch.from_numpy(dhs)

            def bplearn_step():
                layer.zero_grad()
                layer(x)
                layer.backward(dhs)

            def torch_step():
                tlayer.zero_grad()
                tlayer(tx)[0].backward(tdhs)

            bplearn_step(), torch_step()
            tol = 1e-3 if dtype == np.float32 else 1e-9
            for p, tp in zip(weights, (tlayer.weight_ih_l0, tlayer.weight_hh_l0, tlayer.bias_ih_l0)):
                np.testing.assert_allclose(p.grad, tp.grad.numpy().T, rtol=tol, atol=tol)
            steps = {"bplearn": bplearn_step, "torch": torch_step}
            fused_kernel = kind == "LSTM" and dtype == np.float32
            if fused_kernel:
                def torch_aten_step():
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
