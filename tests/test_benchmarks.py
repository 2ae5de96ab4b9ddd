"""The benchmarks' own checks: the two sides of every comparison do the same arithmetic.

Timings are measured (python -m benchmarks.run), never asserted in tests. But a benchmark
whose two sides computed different things would print meaningless ratios, so the checks it
runs before timing are tested here, on tiny models, including that they can fail.
"""
import numpy as np
import pytest

from benchmarks import common, mlp, run
from bplearn import nn


def tiny_mlp(dtype):
    """The benchmark's MLP shape (Linear, ReLU, Linear, ReLU, Linear) at toy size."""
    model = nn.Sequential(nn.Linear(6, 5, rng=0), nn.ReLU(), nn.Linear(5, 4, rng=1), nn.ReLU(),
                          nn.Linear(4, 3, rng=2)).to(dtype)
    model[0].input_grad = False
    rng = np.random.default_rng(0)
    return model, rng.standard_normal((8, 6)).astype(dtype), rng.integers(0, 3, 8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_hand_written_numpy_step_gives_bplearns_weights(dtype):
    model, x, labels = tiny_mlp(dtype)
    step = mlp.checked_hand_written_step(model, x, labels)      # raises if the weights differ
    step()                                                      # and it keeps running


def test_the_hand_written_step_check_fails_when_the_arithmetic_differs(monkeypatch):
    model, x, labels = tiny_mlp(np.float64)
    monkeypatch.setattr(mlp, "LR", 2 * common.LR)               # the hand-written side steps twice as far
    with pytest.raises(AssertionError):
        mlp.checked_hand_written_step(model, x, labels)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_torch_step_computes_what_bplearn_computes(dtype, torch):
    model, x, labels = tiny_mlp(dtype)
    common.checked_torch_step(model, x, labels, "cross_entropy", torch)   # raises if outputs differ


def test_the_torch_step_check_fails_when_torch_starts_from_other_weights(torch, monkeypatch):
    def perturbed(model):
        twin = original(model)
        with torch.no_grad():
            next(twin.parameters()).add_(0.1)
        return twin

    original = common.to_torch
    monkeypatch.setattr(common, "to_torch", perturbed)
    model, x, labels = tiny_mlp(np.float64)
    with pytest.raises(AssertionError):
        common.checked_torch_step(model, x, labels, "cross_entropy", torch)


def test_writing_results_keeps_the_grading_section(tmp_path, monkeypatch):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\nold table\n\n## Grading a class (x)\n\n| 30 | 15.3 s |\n")
    monkeypatch.setattr(run, "RESULTS", results)
    assert run._kept_sections() == "\n## Grading a class (x)\n\n| 30 | 15.3 s |\n"
    results.unlink()
    assert run._kept_sections() == ""
