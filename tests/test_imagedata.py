"""The shipped digits and the synthetic shapes: shapes, ranges, splits, seeds, learnability."""
import numpy as np
import pytest

from bplearn import nn
from bplearn.data import SHAPE_NAMES, load_digits, shapes
from bplearn.optim import Adam
from bplearn.train import fit

# Images per digit 0..9 in the UCI optdigits test partition (1797 in all).
DIGIT_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def _rows(X):
    """The images as a sorted list of byte strings: equal multisets of images <=> equal lists."""
    return sorted(image.tobytes() for image in X)


def test_load_digits_all_images_shapes_ranges_and_class_counts():
    X, y = load_digits()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == DIGIT_COUNTS


def test_load_digits_first_image_is_the_known_zero():
    X, y = load_digits(normalize=False)
    assert y[0] == 0
    np.testing.assert_array_equal(X[0, 0, 0], [0, 0, 5, 13, 9, 1, 0, 0])    # first row of the UCI file
    np.testing.assert_array_equal(X[0, 0, 7], [0, 0, 6, 13, 10, 0, 0, 0])
    assert set(np.unique(X)) <= set(range(17))                             # raw counts 0..16


def test_load_digits_split_is_stratified_disjoint_and_complete():
    X, y = load_digits(normalize=False)
    Xtr, ytr = load_digits("train", normalize=False)
    Xte, yte = load_digits("test", normalize=False)
    assert len(ytr) + len(yte) == 1797
    assert np.bincount(yte).tolist() == [round(0.2 * c) for c in DIGIT_COUNTS]
    # train and test together are exactly the whole set (as a multiset of images)
    assert _rows(np.concatenate([Xtr, Xte])) == _rows(X)
    assert _rows(np.concatenate([Xtr[ytr == 3], Xte[yte == 3]])) == _rows(X[y == 3])


def test_load_digits_split_repeats_with_seed_and_changes_with_another():
    a, b, c = load_digits("test", rng=5), load_digits("test", rng=5), load_digits("test", rng=6)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert _rows(a[0]) != _rows(c[0])
    assert len(load_digits("test", test_fraction=0.5)[1]) == sum(round(0.5 * c) for c in DIGIT_COUNTS)


def test_load_digits_split_is_shuffled_not_sorted_by_class():
    _, y = load_digits("train")
    assert np.any(np.diff(y) < 0) and len(np.unique(y[:50])) == 10


@pytest.mark.parametrize("kwargs, message", [
    ({"split": "validation"}, r"split must be one of None, 'train', 'test'; got 'validation'"),
    ({"split": "test", "test_fraction": 1.0}, r"load_digits: test_fraction must be in \(0, 1\), got 1\.0"),
    ({"test_fraction": 0}, r"test_fraction must be in \(0, 1\), got 0"),
])
def test_load_digits_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_digits(**kwargs)


def test_shapes_returns_balanced_images_in_unit_range():
    X, y = shapes(100, size=12, rng=1)
    assert X.shape == (100, 1, 12, 12) and X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert np.bincount(y).tolist() == [34, 33, 33] and len(SHAPE_NAMES) == 3


def test_shapes_repeat_with_seed_and_change_with_another():
    a, b, c = shapes(30, rng=3), shapes(30, rng=3), shapes(30, rng=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_shapes_without_noise_draw_bars_crosses_and_box_outlines():
    X, y = shapes(60, size=16, rng=0, noise=0.0)
    assert set(np.unique(X)) == {0.0, 1.0}
    for image, label in zip(X[:, 0], y):
        rows, cols = np.nonzero(image)
        height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
        if SHAPE_NAMES[label] == "bar":            # a filled rectangle 1 or 2 pixels thick
            assert len(rows) == height * width and min(height, width) <= 2 and max(height, width) >= 8
        elif SHAPE_NAMES[label] == "cross":        # two lines of equal odd length sharing the centre
            assert height == width and height % 2 == 1 and len(rows) == 2 * height - 1
        else:                                      # the outline of a square: its inside is empty
            assert height == width and len(rows) == 4 * (height - 1)
            assert not image[rows.min() + 1:rows.max(), cols.min() + 1:cols.max()].any()


def test_shapes_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match=r"shapes: size must be a whole number >= 8, got 5"):
        shapes(size=5)
    with pytest.raises(ValueError, match=r"shapes: noise \(a standard deviation\) must be in \[0, inf\)"):
        shapes(noise=-0.1)


def test_small_cnn_learns_digits_to_90_percent_test_accuracy_in_three_epochs():
    # A quarter of a second of arithmetic (one core). The course notebook trains the same
    # network for 20 epochs at lr=0.002 and reaches about 98 %.
    Xtr, ytr = load_digits("train")
    Xte, yte = load_digits("test")
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2),    # (N, 16, 4, 4)
        nn.Conv2d(16, 32, 3, padding=1, rng=1), nn.ReLU(), nn.MaxPool2d(2),   # (N, 32, 2, 2)
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10, rng=2),
    )
    fit(model, nn.CrossEntropyLoss(), Adam(model.parameters(), lr=0.003), (Xtr, ytr),
        epochs=3, batch_size=32, rng=0, progress=False)
    accuracy = np.mean(model(Xte).argmax(axis=1) == yte)
    assert accuracy >= 0.90, f"test accuracy {accuracy:.3f}"
