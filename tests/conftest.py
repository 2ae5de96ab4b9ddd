"""Shared fixtures.

``torch`` : the optional PyTorch module for cross-checks. Locally a missing torch
skips those tests with a reason; in CI (BPLEARN_REQUIRE_TORCH=1, set by .ci/run)
a missing torch is a failure, so the cross-checks can never be skipped silently.
"""
import os

# One BLAS thread: the small matrix products here run several times slower when two
# threads fight over two shared cores. Must be set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

# Unit tests draw off-screen. Only this process: notebook kernels started by nbval keep
# Jupyter's inline backend, so their figures are recorded like a learner sees them.
matplotlib.use("Agg")


@pytest.fixture(scope="session")
def torch():
    try:
        import torch as _torch
    except ImportError:
        if os.environ.get("BPLEARN_REQUIRE_TORCH") == "1":
            pytest.fail("torch is required in CI (BPLEARN_REQUIRE_TORCH=1) but is not installed")
        pytest.skip("torch not installed: install the 'torch' extra to cross-check against PyTorch")
    _torch.set_default_dtype(_torch.float64)
    return _torch


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
