"""How long one step of a widget takes to redraw (the goal: < 50 ms each).

A step is what a click on Step costs in the kernel: ``stepper.goto(i)`` updates the
view's artists, redraws the figure into PNG bytes for the ipywidgets.Image and
rewrites the text. Measured over every step of a pass, with the widget built (no
browser needed: without a kernel ipywidgets talks to nobody). The "reference" is
the 50 ms budget itself, so ratio = step time / 50 ms and target <= 1.
"""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

from bplearn import nn  # noqa: E402
from bplearn.explain.widgets import BPTTStepper, GraphStepper, NetworkStepper, TangentExplorer  # noqa: E402

from .common import row, time_interleaved  # noqa: E402

BUDGET_MS = 50.0


def _cycle(stepper):
    """A function that shows the next step each call, wrapping around at the end."""
    _ = stepper.widget                                    # build buttons, slider, image once
    n = len(stepper.trace)

    def show_next_step():
        stepper.goto((stepper.index + 1) % n)
    return show_next_step


def _nudge(explorer):
    """A function that moves the TangentExplorer's x by one slider step each call, as a drag does."""
    _ = explorer.widget
    xs = np.arange(explorer.low, explorer.high, explorer.step)
    position = [0]

    def move():
        position[0] = (position[0] + 1) % len(xs)
        explorer.set_x(float(xs[position[0]]))
    return move


def run() -> list[dict]:
    rng = np.random.default_rng(0)
    mlp = nn.Sequential(nn.Linear(2, 16, rng=1), nn.ReLU(), nn.Linear(16, 16, rng=2), nn.ReLU(),
                        nn.Linear(16, 16, rng=3), nn.ReLU(), nn.Linear(16, 2, rng=4))
    x, y = rng.standard_normal((64, 2)), rng.integers(0, 2, 64)
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(4 * 4 * 4, 3, rng=2))
    images, labels = rng.standard_normal((8, 1, 8, 8)), rng.integers(0, 3, 8)
    steppers = {
        "NetworkStepper MLP 2-16-16-16-2, one step": NetworkStepper(mlp, x, y, nn.CrossEntropyLoss()),
        "NetworkStepper CNN conv-relu-pool-linear, one step": NetworkStepper(cnn, images, labels,
                                                                             nn.CrossEntropyLoss()),
        "GraphStepper (w*x+b-t)**2, one step": GraphStepper("(w * x + b - t) ** 2", w=0.5, x=2.0, b=0.1, t=1.0),
        "BPTTStepper RNN H=16, T=20, one step": BPTTStepper(nn.RNN(3, 16, rng=0), rng.standard_normal((20, 3))),
        "BPTTStepper LSTM H=16, T=20, one step": BPTTStepper(nn.LSTM(3, 16, rng=0), rng.standard_normal((20, 3))),
    }
    actions = {name: _cycle(s) for name, s in steppers.items()}
    actions["TangentExplorer x³ − 3x, one slider step"] = _nudge(
        TangentExplorer(lambda x: x**3 - 3 * x, lambda x: 3 * x**2 - 3, x=1.5, x_range=(-2.5, 2.5)))
    times = time_interleaved(actions, repeats=10, min_seconds=0.2)
    return [row(name, ms, "50 ms budget", BUDGET_MS, 1.0) for name, ms in times.items()]


if __name__ == "__main__":
    from .common import format_table

    print(format_table(run()))
