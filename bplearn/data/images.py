"""Small image data sets for convolutional networks, shipped inside the package.

Both return images the way ``Conv2d`` wants them, X: (N, 1, H, W) float64 (one
channel, grey levels in [0, 1]), and labels y: (N,) int64, ready for CrossEntropyLoss.

* ``load_digits``: 1797 real handwritten digits, 8x8 pixels, 10 classes.
* ``shapes``: a synthetic set of bars, crosses and boxes drawn at random places,
  as large as you like; each class is a pattern a small filter can spot.

Digits data: the UCI "Optical Recognition of Handwritten Digits" set by E. Alpaydin and
C. Kaynak (1998), UCI Machine Learning Repository, https://doi.org/10.24432/C50P49,
licensed CC BY 4.0. We ship its 1797-image test partition, converted once to
``bplearn/data/files/digits.npz`` (see ``bplearn/data/files/README_digits.txt`` and
``docs/make_digits_npz.py``). Nothing is downloaded at run time.
"""
from __future__ import annotations

from importlib import resources

import numpy as np

from ..errors import check_choice, check_count, check_number
from ..nn.init import make_rng

DIGITS_FILE = "files/digits.npz"
SHAPE_NAMES = ("bar", "cross", "box")


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The stored images (1797, 8, 8) uint8 in 0..16 and labels (1797,) uint8 in 0..9."""
    with resources.files("bplearn.data").joinpath(DIGITS_FILE).open("rb") as f:
        with np.load(f) as data:
            return data["images"], data["labels"]


def load_digits(split: str | None = None, test_fraction: float = 0.2, rng=0, normalize: bool = True):
    """The 8x8 handwritten digits as a batch of one-channel images.

    split: None for all 1797 images (in the file's order), or "train" / "test" for
        one side of a seeded, stratified split: within every digit class, a shuffled
        ``round(test_fraction * class size)`` images go to "test", the rest to
        "train". The same ``rng`` and ``test_fraction`` always give the same split, and
        "train" and "test" never share an image. Both come out shuffled (classes mixed).
    rng: an int seed or a numpy Generator (only used for a split).
    normalize: True divides by 16 so pixels lie in [0, 1]; False keeps the counts 0..16.

    Returns X: (N, 1, 8, 8) float64 and y: (N,) int64 in 0..9.
    """
    check_choice("load_digits", "split", split, (None, "train", "test"))
    check_number("load_digits", "test_fraction", test_fraction, 0.0, 1.0, low_inclusive=False)
    images, labels = _digits_arrays()
    X = images[:, None].astype(np.float64)                       # (1797, 1, 8, 8) add the channel axis
    if normalize:
        X /= 16.0                                                # counts 0..16 -> [0, 1]
    y = labels.astype(np.int64)
    if split is None:
        return X, y
    rng = make_rng(rng)
    test = np.zeros(len(y), dtype=bool)
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(y == digit))   # this class, shuffled
        test[members[:round(test_fraction * len(members))]] = True
    chosen = np.flatnonzero(test if split == "test" else ~test)
    chosen = rng.permutation(chosen)                             # mix the classes
    return X[chosen], y[chosen]


def shapes(n: int = 600, size: int = 16, rng=0, noise: float = 0.1):
    """Synthetic images of three shapes at random positions and sizes.

    Class 0 "bar": one straight line, horizontal or vertical, 1 or 2 pixels thick.
    Class 1 "cross": a plus sign, a horizontal and a vertical line through one point.
    Class 2 "box": the outline of a square.
    The shape is drawn at brightness 1 on a black background; then Gaussian noise
    with standard deviation ``noise`` is added and the result clipped to [0, 1].

    n: number of images (the classes differ in size by at most one); size: image
    height and width in pixels (at least 8); rng: an int seed or numpy Generator.
    Returns X: (n, 1, size, size) float64 in [0, 1], y: (n,) int64 in {0, 1, 2}
    (names in ``SHAPE_NAMES``), in shuffled order.
    """
    check_count("shapes", "n", n, 3)
    check_count("shapes", "size", size, 8)
    check_number("shapes", "noise (a standard deviation)", noise, low=0.0)
    rng = make_rng(rng)
    y = rng.permutation(np.arange(n) % len(SHAPE_NAMES))         # balanced classes, shuffled
    X = np.zeros((n, 1, size, size))
    draw = (_draw_bar, _draw_cross, _draw_box)
    for image, label in zip(X[:, 0], y):                         # image: (size, size), a view into X
        draw[label](image, rng)
    X += noise * rng.standard_normal(X.shape)
    return np.clip(X, 0.0, 1.0), y.astype(np.int64)


def _draw_bar(image: np.ndarray, rng: np.random.Generator) -> None:
    size = image.shape[0]
    length = rng.integers(size // 2, size - 1)                   # at least half the image wide
    thick = rng.integers(1, 3)
    along = rng.integers(0, size - length + 1)                   # where the line starts
    across = rng.integers(1, size - thick)                       # its row (or column), not on the border
    if rng.random() < 0.5:
        image[across:across + thick, along:along + length] = 1.0     # horizontal
    else:
        image[along:along + length, across:across + thick] = 1.0     # vertical


def _draw_cross(image: np.ndarray, rng: np.random.Generator) -> None:
    size = image.shape[0]
    row, col = rng.integers(2, size - 2, size=2)                 # the centre, away from the edge
    room = min(row, col, size - 1 - row, size - 1 - col)         # longest arm that fits
    arm = rng.integers(2, room + 1)
    image[row, col - arm:col + arm + 1] = 1.0
    image[row - arm:row + arm + 1, col] = 1.0


def _draw_box(image: np.ndarray, rng: np.random.Generator) -> None:
    size = image.shape[0]
    side = rng.integers(4, size - 1)                             # outer width in pixels
    top, left = rng.integers(0, size - side + 1, size=2)
    bottom, right = top + side - 1, left + side - 1
    image[top, left:right + 1] = image[bottom, left:right + 1] = 1.0
    image[top:bottom + 1, left] = image[top:bottom + 1, right] = 1.0
