"""Toy data sets, train/validation split and the mini-batch DataLoader."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bplearn.data import DataLoader, circles, linear_regression, moons, spirals, train_val_split, xor
from bplearn.errors import ShapeError

CLASSIFICATION = {
    "xor": (xor, 2),
    "moons": (moons, 2),
    "circles": (circles, 2),
    "spirals": (spirals, 3),
}


# --- the generators ------------------------------------------------------------------------

@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("n", [12, 101])
def test_classification_sets_have_documented_shapes_dtypes_and_balanced_classes(name, n):
    make, classes = CLASSIFICATION[name]
    X, y = make(n=n)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=classes)
    assert len(counts) == classes and counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_sets_repeat_with_the_same_seed_and_differ_with_another(name):
    make, _ = CLASSIFICATION[name]
    X1, y1 = make(rng=3)
    X2, y2 = make(rng=3)
    X3, _ = make(rng=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(X1, X3)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_sets_accept_a_generator_and_come_out_shuffled(name):
    make, _ = CLASSIFICATION[name]
    X, y = make(rng=np.random.default_rng(7))
    assert len(X) == len(y)
    assert len(set(y[:20].tolist())) > 1          # not sorted by class


def test_xor_label_is_one_exactly_where_the_coordinates_have_opposite_signs():
    X, y = xor(n=400, noise=0.1)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))


def test_moons_without_noise_lie_on_two_unit_half_circles():
    X, y = moons(n=50, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-12)
    assert np.all(upper[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert np.all(lower[:, 1] <= 0.5 + 1e-12)


def test_circles_without_noise_have_radius_one_and_factor():
    X, y = circles(n=60, noise=0.0, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(radius[y == 1], 0.3, atol=1e-12)


def test_spirals_stay_in_the_unit_disc_with_one_arm_per_class():
    X, y = spirals(n=500, classes=5)
    assert set(y.tolist()) == {0, 1, 2, 3, 4}
    assert np.all(np.hypot(X[:, 0], X[:, 1]) <= 1.0 + 1e-12)


def test_linear_regression_without_noise_is_exactly_the_returned_plane():
    X, y, w, b = linear_regression(n=30, n_features=3, noise=0.0, return_coef=True)
    assert X.shape == (30, 3) and y.shape == (30, 1) and w.shape == (3,) and isinstance(b, float)
    np.testing.assert_allclose(y[:, 0], X @ w + b, rtol=1e-13)


def test_linear_regression_least_squares_recovers_the_true_coefficients():
    X, y, w, b = linear_regression(n=2000, n_features=2, noise=0.1, rng=5, return_coef=True)
    design = np.hstack([X, np.ones((len(X), 1))])
    fitted, *_ = np.linalg.lstsq(design, y[:, 0], rcond=None)
    np.testing.assert_allclose(fitted, np.append(w, b), atol=0.01)


def test_linear_regression_returns_just_x_and_y_by_default():
    out = linear_regression(n=5)
    assert len(out) == 2 and out[0].shape == (5, 1) and out[1].shape == (5, 1)


@pytest.mark.parametrize("call, error, message", [
    (lambda: xor(n=2), ValueError, "xor: n must be a whole number >= 4, got 2"),
    (lambda: moons(n=2.5), TypeError, "moons: n must be a whole number"),
    (lambda: circles(noise=-0.1), ValueError, r"circles: noise \(a standard deviation\) must be in \[0, inf\), got -0\.1"),
    (lambda: circles(factor=1.5), ValueError, r"circles: factor \(inner radius / outer radius\) must be in \(0, 1\), got 1\.5"),
    (lambda: spirals(n=2, classes=3), ValueError, "n=2 is smaller than classes=3"),
    (lambda: spirals(classes=1), ValueError, "spirals: classes must be a whole number >= 2, got 1"),
])
def test_generators_reject_bad_arguments_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- train_val_split ------------------------------------------------------------------------

def test_train_val_split_sizes_are_disjoint_complete_and_keep_pairs_aligned():
    X = np.arange(50).reshape(25, 2).astype(float)
    y = np.arange(25)
    (X_tr, y_tr), (X_val, y_val) = train_val_split(X, y, val_fraction=0.2, rng=1)
    assert len(X_val) == len(y_val) == 5 and len(X_tr) == len(y_tr) == 20
    assert sorted(np.concatenate([y_tr, y_val]).tolist()) == list(range(25))
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)
    np.testing.assert_array_equal(X_val[:, 0], 2 * y_val)


def test_train_val_split_is_seeded():
    X, y = moons(n=40)
    a = train_val_split(X, y, rng=2)
    b = train_val_split(X, y, rng=2)
    c = train_val_split(X, y, rng=3)
    np.testing.assert_array_equal(a[1][0], b[1][0])
    assert not np.array_equal(a[1][0], c[1][0])


@pytest.mark.parametrize("fraction, message", [
    (0.0, r"val_fraction must be in \(0, 1\), got 0\.0"),
    (1.0, r"val_fraction must be in \(0, 1\), got 1\.0"),
    (0.01, "leaves 0 for validation and 10 for training; both need at least one"),
])
def test_train_val_split_rejects_fractions_that_leave_a_part_empty(fraction, message):
    with pytest.raises(ValueError, match=message):
        train_val_split(np.zeros((10, 2)), np.zeros(10), val_fraction=fraction)


def test_train_val_split_rejects_x_and_y_of_different_lengths():
    with pytest.raises(ShapeError, match=r"X has 10 samples \(shape \(10, 2\)\) but y has 9"):
        train_val_split(np.zeros((10, 2)), np.zeros(9))


# --- DataLoader -------------------------------------------------------------------------------

def test_loader_covers_every_sample_exactly_once_per_epoch_in_a_new_order():
    X = np.arange(23, dtype=float).reshape(23, 1)
    y = np.arange(23)
    loader = DataLoader(X, y, batch_size=5, rng=0)
    orders = []
    for _ in range(3):
        batches = list(loader)
        assert [len(xb) for xb, _ in batches] == [5, 5, 5, 5, 3]
        for xb, yb in batches:
            np.testing.assert_array_equal(xb[:, 0], yb)           # rows stay paired with labels
        seen = np.concatenate([yb for _, yb in batches])
        assert sorted(seen.tolist()) == list(range(23))
        orders.append(seen)
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])


def test_loader_epochs_repeat_exactly_with_the_same_seed():
    X, y = moons(n=40)
    a = DataLoader(X, y, batch_size=8, rng=4)
    b = DataLoader(X, y, batch_size=8, rng=4)
    for _ in range(3):
        for (xa, ya), (xb, yb) in zip(a, b):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)


def test_loader_without_shuffle_keeps_the_original_order():
    X = np.arange(10, dtype=float).reshape(10, 1)
    batches = list(DataLoader(X, np.arange(10), batch_size=4, shuffle=False))
    assert [yb.tolist() for _, yb in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_loader_drop_last_drops_the_short_batch():
    loader = DataLoader(np.zeros((10, 2)), np.zeros(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(xb) for xb, _ in loader] == [4, 4]


def test_loader_works_for_image_shaped_inputs():
    X = np.zeros((7, 1, 4, 4))
    xb, yb = next(iter(DataLoader(X, np.zeros(7, dtype=int), batch_size=3)))
    assert xb.shape == (3, 1, 4, 4) and yb.shape == (3,)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60), st.integers(1, 70), st.booleans(), st.booleans())
def test_loader_length_equals_the_number_of_batches_it_yields(n, batch_size, shuffle, drop_last):
    if drop_last and batch_size > n:
        return                                                  # rejected, see the error test
    loader = DataLoader(np.zeros((n, 1)), np.arange(n), batch_size, shuffle=shuffle, drop_last=drop_last)
    sizes = [len(yb) for _, yb in loader]
    assert len(sizes) == len(loader)
    assert sum(sizes) == (n - n % batch_size if drop_last else n)
    assert all(s == batch_size for s in sizes[:-1]) and 0 < sizes[-1] <= batch_size


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(X=np.zeros((5, 2)), y=np.zeros(4)), ShapeError,
     r"DataLoader: X has 5 samples \(shape \(5, 2\)\) but y has 4 \(shape \(4,\)\). They must have the same length"),
    (dict(batch_size=0), ValueError, "DataLoader: batch_size must be a whole number >= 1, got 0"),
    (dict(batch_size=-3), ValueError, "batch_size must be a whole number >= 1, got -3"),
    (dict(batch_size=2.5), TypeError, "batch_size must be a whole number >= 1, got 2.5"),
    (dict(batch_size=9, drop_last=True), ValueError, "with drop_last=True there would be no batches"),
    (dict(X=np.zeros((0, 2)), y=np.zeros(0)), ValueError, "X and y are empty"),
])
def test_loader_rejects_bad_arguments_with_a_clear_message(kwargs, error, message):
    args = dict(X=np.zeros((5, 2)), y=np.zeros(5)) | kwargs
    with pytest.raises(error, match=message):
        DataLoader(**args)
