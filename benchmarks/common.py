"""What every benchmark shares: fair timing, result rows, machine facts.

Fairness rules, all applied here or in run.py:

* one thread each: OPENBLAS_NUM_THREADS=1 / OMP_NUM_THREADS=1 are set in run.py before
  numpy is imported, and torch.set_num_threads(1) below;
* interleaved repeats: bplearn and the reference take turns, so a slow moment of the
  (shared) machine hits both alike, and we report the median over the repeats;
* CPU time of this process (time.process_time), not wall-clock time, so time spent
  waiting while other programs use the cores is not counted against either side.
"""
from __future__ import annotations

import os
import platform
import time
from typing import Callable

import numpy as np

from bplearn import nn
from bplearn.models import to_torch
from bplearn.optim import SGD


def set_torch_threads():
    """Import torch limited to one thread; return the module, or None if it is missing."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


def time_interleaved(fns: dict[str, Callable[[], object]], repeats: int = 30,
                     min_seconds: float = 0.02) -> dict[str, float]:
    """Median milliseconds per call of each function, timed in turns.

    Each repeat runs every function ``calls`` times in a row (enough calls that the
    slowest takes at least ``min_seconds``), one function after the other.
    """
    for fn in fns.values():                       # warm-up: caches, allocator, lazy imports
        fn()
    slowest = max(_seconds_per_call(fn) for fn in fns.values())
    calls = max(1, int(min_seconds / max(slowest, 1e-6)))
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.process_time()
            for _ in range(calls):
                fn()
            samples[name].append((time.process_time() - start) / calls * 1e3)
    return {name: float(np.median(s)) for name, s in samples.items()}


def _seconds_per_call(fn, calls: int = 3) -> float:
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls


def row(name: str, bplearn_ms: float, reference: str, reference_ms: float, target: float) -> dict:
    """One result: met is True when bplearn_ms / reference_ms <= target."""
    ratio = bplearn_ms / reference_ms
    return {"name": name, "bplearn_ms": bplearn_ms, "reference": reference, "reference_ms": reference_ms,
            "ratio": ratio, "target": target, "met": ratio <= target}




LR = 0.01           # plain SGD on both sides: the update is one pass over the weights


def training_step(model, loss_fn, optimizer, x, y) -> Callable[[], None]:
    """One real bplearn training step, as a function to time: zero_grad, forward, loss,
    loss backward, every layer's backward, optimiser step."""
    def step():
        optimizer.zero_grad()
        loss_fn(model(x), y)
        model.backward(loss_fn.backward())
        optimizer.step()
    return step


def bplearn_step(model, x, y, loss: str) -> Callable[[], None]:
    """``training_step`` with the named loss ("cross_entropy" or "mse") and SGD(lr=LR),
    after checking that one step changes no array's dtype."""
    loss_fn = nn.CrossEntropyLoss() if loss == "cross_entropy" else nn.MSELoss()
    step = training_step(model, loss_fn, SGD(model.parameters(), lr=LR), x, y)
    step()
    arrays = {"output": model(x), "dL/doutput": loss_fn.backward()}
    arrays |= {f"{n}.data": p.data for n, p in model.named_parameters()}
    arrays |= {f"{n}.grad": p.grad for n, p in model.named_parameters()}
    changed = {name: a.dtype for name, a in arrays.items() if a.dtype != x.dtype}
    if changed:
        raise AssertionError(f"a {x.dtype} training step changed dtypes: {changed}")
    return step


def checked_torch_step(model, x, y, loss: str, torch) -> Callable[[], None]:
    """The same step in torch: ``bplearn.models.to_torch`` (same layers, same weights,
    x's dtype), the same loss, SGD(lr=LR). Before returning it checks that one step on
    each side, from the same weights, leaves both models computing the same outputs,
    so the two timings measure the same arithmetic."""
    torch_model = to_torch(model).to(torch.float32 if x.dtype == np.float32 else torch.float64)
    loss_fn = torch.nn.CrossEntropyLoss() if loss == "cross_entropy" else torch.nn.MSELoss()
    opt = torch.optim.SGD([p for p in torch_model.parameters() if p.requires_grad], lr=LR)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss_fn(torch_model(tx), ty).backward()
        opt.step()

    bplearn_step(model, x, y, loss)                 # one step each, from the same weights
    step()
    tol = 1e-3 if x.dtype == np.float32 else 1e-9
    with torch.no_grad():
        np.testing.assert_allclose(model(x), torch_model(tx).numpy(), rtol=tol, atol=tol)
    return step


def machine() -> dict[str, str]:
    """CPU model, core count and library versions, for the results file."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    torch = set_torch_threads()
    return {"cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version(),
            "numpy": np.__version__, "torch": torch.__version__ if torch else "not installed"}


def format_table(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    lines = ["| benchmark | bplearn ms | reference | reference ms | ratio | target | met |",
             "|---|---:|---|---:|---:|---:|:---:|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['bplearn_ms']:.3f} | {r['reference']} | {r['reference_ms']:.3f} | "
                     f"{r['ratio']:.2f} | <= {r['target']:.2f} | {'yes' if r['met'] else 'NO'} |")
    return "\n".join(lines)


def layer_breakdown(model, x, grad_out, repeats: int = 20) -> str:
    """Median CPU milliseconds of each layer's forward and backward in a Sequential, as Markdown."""
    forward = [[] for _ in model.layers]
    backward = [[] for _ in model.layers]
    for _ in range(repeats + 1):                      # the first round only warms up
        h = x
        for i, layer in enumerate(model.layers):
            start = time.process_time()
            h = layer(h)
            forward[i].append(time.process_time() - start)
        g = grad_out
        for i in reversed(range(len(model.layers))):
            start = time.process_time()
            g = model.layers[i].backward(g)
            backward[i].append(time.process_time() - start)
    lines = ["| layer | forward ms | backward ms |", "|---|---:|---:|"]
    for layer, f, b in zip(model.layers, forward, backward):
        lines.append(f"| {layer.short_name()} | {np.median(f[1:]) * 1e3:.3f} | {np.median(b[1:]) * 1e3:.3f} |")
    return "\n".join(lines)
