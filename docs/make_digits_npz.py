"""One-off conversion that produced ``bplearn/data/files/digits.npz`` (kept for provenance).

Where the data comes from
-------------------------
The UCI "Optical Recognition of Handwritten Digits" data set (E. Alpaydin and
C. Kaynak, 1998; UCI Machine Learning Repository, CC BY 4.0). Each 32x32 bitmap of
a handwritten digit was cut into 4x4 blocks and the "on" pixels of each block were
counted, giving an 8x8 image with integer values 0..16. The 1797 images used here
are the copy that scikit-learn ships as ``sklearn/datasets/data/digits.csv.gz``
(one image per row: 64 pixel values, then the label).

How to redo it
--------------
bplearn does not depend on scikit-learn; we only borrow the file from its wheel once::

    pip download scikit-learn --no-deps -d /tmp/skl
    unzip -j /tmp/skl/scikit_learn-*.whl sklearn/datasets/data/digits.csv.gz -d /tmp/skl
    python docs/make_digits_npz.py /tmp/skl/digits.csv.gz bplearn/data/files/digits.npz

The output holds ``images`` (1797, 8, 8) uint8 in 0..16 and ``labels`` (1797,) uint8
in 0..9, compressed with ``np.savez_compressed``; ``bplearn.data.load_digits``
reads it.
"""
from __future__ import annotations

import sys

import numpy as np


def convert(csv_gz: str, out_npz: str) -> None:
    table = np.loadtxt(csv_gz, delimiter=",", dtype=np.int64)   # (1797, 65): 64 pixels + label
    if table.shape != (1797, 65):
        raise SystemExit(f"expected a (1797, 65) table, got {table.shape}")
    images, labels = table[:, :64], table[:, 64]
    if images.min() < 0 or images.max() > 16 or labels.min() < 0 or labels.max() > 9:
        raise SystemExit("pixel values must lie in 0..16 and labels in 0..9")
    np.savez_compressed(
        out_npz,
        images=images.reshape(-1, 8, 8).astype(np.uint8),   # row-major: pixel k is at (k // 8, k % 8)
        labels=labels.astype(np.uint8),
    )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python docs/make_digits_npz.py DIGITS_CSV_GZ OUT_NPZ")
    convert(sys.argv[1], sys.argv[2])
