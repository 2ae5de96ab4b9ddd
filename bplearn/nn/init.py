"""Weight initialisation: keep signals (and gradients) the same size layer to layer.

If a layer with ``fan_in`` inputs draws weights with variance v, each output is a
sum of fan_in terms and has variance about fan_in * v * Var(x). Choosing
v = 1 / fan_in keeps that variance steady through the network:

* Xavier/Glorot (for tanh/sigmoid): v = 2 / (fan_in + fan_out), a compromise that
  also keeps the *backward* signal steady.
* He/Kaiming (for ReLU): v = 2 / fan_in, because ReLU zeroes half its inputs.

Every function takes a ``numpy.random.Generator`` (or a seed) so results repeat.
"""
from __future__ import annotations

import numpy as np


_default_rng = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Restart the generator used when no ``rng`` is given (like ``torch.manual_seed``)."""
    global _default_rng
    _default_rng = np.random.default_rng(seed)


def make_rng(rng=None) -> np.random.Generator:
    """Accept a Generator, an int seed, or None; return a Generator.

    None draws from one shared generator seeded with 0 at import (see ``manual_seed``):
    a fresh kernel that builds the same model gets the same weights, yet two layers
    built one after the other still get different weights.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return _default_rng
    return np.random.default_rng(rng)


def fans(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: Linear (out, in) or Conv (F, C, kh, kw)."""
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def xavier_uniform(shape: tuple, rng=None, gain: float = 1.0) -> np.ndarray:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    shape: (out, in) or (F, C, kh, kw) -> weights of that shape, variance
    gain² * 2 / (fan_in + fan_out) (a uniform on (-a, a) has variance a² / 3).
    """
    fan_in, fan_out = fans(shape)
    bound = gain * np.sqrt(6.0 / (fan_in + fan_out))
    return make_rng(rng).uniform(-bound, bound, size=shape)


def xavier_normal(shape: tuple, rng=None, gain: float = 1.0) -> np.ndarray:
    """Glorot normal: N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out)).

    shape: (out, in) or (F, C, kh, kw) -> weights of that shape.
    """
    fan_in, fan_out = fans(shape)
    return make_rng(rng).normal(0.0, gain * np.sqrt(2.0 / (fan_in + fan_out)), size=shape)


def kaiming_uniform(shape: tuple, rng=None) -> np.ndarray:
    """He uniform: U(-a, a) with a = sqrt(6 / fan_in), so the variance is 2 / fan_in.

    shape: (out, in) or (F, C, kh, kw) -> weights of that shape.
    """
    fan_in, _ = fans(shape)
    bound = np.sqrt(6.0 / fan_in)
    return make_rng(rng).uniform(-bound, bound, size=shape)


def kaiming_normal(shape: tuple, rng=None) -> np.ndarray:
    """He normal: N(0, std²) with std = sqrt(2 / fan_in).

    shape: (out, in) or (F, C, kh, kw) -> weights of that shape.
    """
    fan_in, _ = fans(shape)
    return make_rng(rng).normal(0.0, np.sqrt(2.0 / fan_in), size=shape)


def recurrent_uniform(shape: tuple, hidden_size: int, rng=None) -> np.ndarray:
    """PyTorch's default for recurrent layers: U(-1/sqrt(H), 1/sqrt(H)) for every weight.

    shape: any, e.g. (H, D) or (4H, H) -> weights of that shape; H = hidden_size.
    """
    bound = 1.0 / np.sqrt(hidden_size)
    return make_rng(rng).uniform(-bound, bound, size=shape)


INITIALISERS = {
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "kaiming_uniform": kaiming_uniform,
    "kaiming_normal": kaiming_normal,
}


def get_initialiser(name: str):
    """The initialiser called ``name`` (a key of INITIALISERS): f(shape, rng) -> weights of that shape."""
    try:
        return INITIALISERS[name]
    except KeyError:
        raise ValueError(
            f"unknown init '{name}'; choose one of {sorted(INITIALISERS)} "
            "(He initialisation is called 'kaiming_*' here, Glorot is 'xavier_*')."
        ) from None
