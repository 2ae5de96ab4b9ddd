"""Small toy data sets and a mini-batch loader.

Every generator is seeded (``rng``: an int seed or a numpy Generator), so a notebook
draws the same points every time it runs. Features are float64 arrays X: (n, 2)
(or (n, n_features)); class labels are int64 arrays y: (n,) with values 0..classes-1,
ready for CrossEntropyLoss. A single-output model (N, 1) trained with
BCEWithLogitsLoss needs targets of its own shape: ``y.reshape(-1, 1)``.

The points come out in random order, so the first rows are not all one class.
"""
from __future__ import annotations


import numpy as np

from ..errors import ShapeError, check_count, check_number
from ..nn.init import make_rng


def _split_evenly(n: int, parts: int) -> list[int]:
    """Sizes of ``parts`` groups adding up to n, differing by at most one: 10, 3 -> [4, 3, 3]."""
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def _shuffled(rng: np.random.Generator, X: np.ndarray, y: np.ndarray):
    order = rng.permutation(len(X))
    return X[order], y[order]


def xor(n: int = 200, noise: float = 0.1, rng=0):
    """Four blobs at the corners (±1, ±1); label 1 where x0 and x1 have opposite signs.

    No straight line separates the classes: the classic problem a single neuron
    cannot solve but one hidden layer can.

    noise: standard deviation of the Gaussian scatter around each corner.
    Returns X: (n, 2) float64, y: (n,) int64 in {0, 1}, classes balanced (±1).
    """
    n = check_count("xor", "n", n, 4)
    noise = check_number("xor", "noise (a standard deviation)", noise, low=0.0)
    rng = make_rng(rng)
    corners = np.array([[1.0, 1.0], [-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0]])
    labels = np.array([0, 0, 1, 1])
    sizes = _split_evenly(n, 4)
    centre = np.repeat(corners, sizes, axis=0)                          # (n, 2)
    y = np.repeat(labels, sizes)                                         # (n,)
    X = centre + noise * rng.standard_normal((n, 2))
    return _shuffled(rng, X, y)


def moons(n: int = 200, noise: float = 0.1, rng=0):
    """Two interleaving half circles ("moons"): class 0 on top, class 1 below.

    noise: standard deviation of Gaussian noise added to each coordinate.
    Returns X: (n, 2) float64 (roughly in [-1, 2] x [-0.5, 1]), y: (n,) int64 in {0, 1}.
    """
    n = check_count("moons", "n", n, 2)
    noise = check_number("moons", "noise (a standard deviation)", noise, low=0.0)
    rng = make_rng(rng)
    n0, n1 = _split_evenly(n, 2)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)                  # (n0, 2) arc over (0, 0)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)        # (n1, 2) arc under (1, 0.5)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.repeat([0, 1], [n0, n1])
    return _shuffled(rng, X, y)


def spirals(n: int = 300, classes: int = 3, noise: float = 0.2, rng=0):
    """``classes`` spiral arms winding out from the origin, one arm per class.

    Along each arm the radius grows from 0 to 1 while the angle turns by 4 radians;
    noise: standard deviation of Gaussian noise added to the *angle* (radians), so
    larger noise blurs the arms into each other.
    Returns X: (n, 2) float64 inside the unit disc, y: (n,) int64 in 0..classes-1.
    """
    n = check_count("spirals", "n", n, 1)
    classes = check_count("spirals", "classes", classes, 2)
    if n < classes:
        raise ValueError(f"spirals: n={n} is smaller than classes={classes}; every class needs a point.")
    noise = check_number("spirals", "noise (a standard deviation)", noise, low=0.0)
    rng = make_rng(rng)
    points, labels = [], []
    for k, size in enumerate(_split_evenly(n, classes)):
        radius = np.linspace(0.0, 1.0, size)
        angle = np.linspace(4.0 * k, 4.0 * (k + 1), size) + noise * rng.standard_normal(size)
        points.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        labels.append(np.full(size, k))
    return _shuffled(rng, np.concatenate(points), np.concatenate(labels))


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, rng=0):
    """A small circle (class 1) inside a large one (class 0).

    factor: radius of the inner circle relative to the outer one (radius 1), in (0, 1).
    noise: standard deviation of Gaussian noise added to each coordinate.
    Returns X: (n, 2) float64, y: (n,) int64 in {0, 1}.
    """
    n = check_count("circles", "n", n, 2)
    noise = check_number("circles", "noise (a standard deviation)", noise, low=0.0)
    factor = check_number("circles", "factor (inner radius / outer radius)", factor, 0.0, 1.0, low_inclusive=False)
    rng = make_rng(rng)
    n_out, n_in = _split_evenly(n, 2)
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)            # (n_out, 2)
    inner = factor * np.stack([np.cos(t_in), np.sin(t_in)], axis=1)     # (n_in, 2)
    X = np.concatenate([outer, inner]) + noise * rng.standard_normal((n, 2))
    y = np.repeat([0, 1], [n_out, n_in])
    return _shuffled(rng, X, y)


def linear_regression(n: int = 100, n_features: int = 1, noise: float = 0.1, rng=0,
                      return_coef: bool = False):
    """Points on a random plane plus noise: y = X @ w + b + noise * N(0, 1).

    X is standard normal; w ~ N(0, 1) per feature and b ~ N(0, 1) are drawn from rng.
    Returns X: (n, n_features) float64 and y: (n, 1) float64 — shaped like the output
    of ``Linear(n_features, 1)`` so it goes straight into MSELoss.
    With return_coef=True also returns the true w: (n_features,) and b: float, which
    a trained Linear layer's weight[0] and bias[0] should approach.
    """
    n = check_count("linear_regression", "n", n, 1)
    n_features = check_count("linear_regression", "n_features", n_features, 1)
    noise = check_number("linear_regression", "noise (a standard deviation)", noise, low=0.0)
    rng = make_rng(rng)
    w = rng.standard_normal(n_features)
    b = float(rng.standard_normal())
    X = rng.standard_normal((n, n_features))
    y = (X @ w + b + noise * rng.standard_normal(n)).reshape(n, 1)     # (n, F) @ (F,) -> (n,) -> (n, 1)
    return (X, y, w, b) if return_coef else (X, y)


def _check_pair(where: str, X, y):
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"{where}: X and y must be arrays with one row per sample; got shapes {X.shape} and {y.shape}.")
    if len(X) != len(y):
        raise ShapeError(
            f"{where}: X has {len(X)} samples (shape {X.shape}) but y has {len(y)} (shape {y.shape}). "
            f"They must have the same length: row i of X goes with entry i of y."
        )
    if len(X) == 0:
        raise ValueError(f"{where}: X and y are empty; there is nothing to train on.")
    return X, y


def train_val_split(X, y, val_fraction: float = 0.2, rng=0):
    """Shuffle, then hold out a fraction of the samples for validation.

    X: (n, ...), y: (n, ...) -> ((X_train, y_train), (X_val, y_val)) with
    n_val = round(n * val_fraction) rows in the validation part (at least one in each).
    The pairs plug straight into ``fit(..., data=train, val_data=val)``.
    """
    X, y = _check_pair("train_val_split", X, y)
    check_number("train_val_split", "val_fraction", val_fraction, 0.0, 1.0, low_inclusive=False)
    n = len(X)
    n_val = int(round(n * val_fraction))
    if not 1 <= n_val <= n - 1:
        raise ValueError(
            f"train_val_split: {n} samples with val_fraction={val_fraction} leaves {n_val} for validation "
            f"and {n - n_val} for training; both need at least one. Use more data or another fraction."
        )
    order = make_rng(rng).permutation(n)
    val, train = order[:n_val], order[n_val:]
    return (X[train], y[train]), (X[val], y[val])


class DataLoader:
    """Iterate over (xb, yb) mini-batches of (X, y), one epoch per ``for`` loop.

    X: (n, ...), y: (n, ...) -> batches xb: (B, ...), yb: (B, ...) with B = batch_size
    (the last batch is smaller unless drop_last=True drops it).
    shuffle=True draws a new order every epoch from ``rng``, so epochs differ from
    each other but a rerun with the same seed repeats them all. ``len(loader)`` is
    the number of batches per epoch.

    >>> for xb, yb in DataLoader(X, y, batch_size=32):
    ...     ...
    """

    def __init__(self, X, y, batch_size: int = 32, shuffle: bool = True, drop_last: bool = False, rng=0):
        self.X, self.y = _check_pair("DataLoader", X, y)
        self.batch_size = check_count("DataLoader", "batch_size", batch_size)
        if drop_last and self.batch_size > len(self.X):
            raise ValueError(
                f"DataLoader: batch_size={batch_size} is larger than the {len(self.X)} samples, so with "
                f"drop_last=True there would be no batches at all. Use a smaller batch_size."
            )
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.rng = make_rng(rng)

    def __len__(self) -> int:
        n, b = len(self.X), self.batch_size
        return n // b if self.drop_last else -(-n // b)                  # floor or ceil of n / b

    def __iter__(self):
        n = len(self.X)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for k in range(len(self)):
            idx = order[k * self.batch_size:(k + 1) * self.batch_size]
            yield self.X[idx], self.y[idx]

    def __repr__(self) -> str:
        return (f"DataLoader({len(self.X)} samples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, {len(self)} batches)")
