"""Losses: finite differences, PyTorch, stability, p - y, and every learner error."""
import warnings

import numpy as np
import pytest

from bplearn.errors import (BackwardBeforeForwardError, BplearnError, DTypeError, LabelError,
                            NonFiniteError, ShapeError)
from bplearn.gradcheck import check_function
from bplearn.nn.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, ProbabilityError


def loss_gradcheck(loss_fn, pred, target) -> float:
    """Max relative error of loss_fn.backward() against finite differences of loss_fn(pred, target)."""
    def grad(p):
        loss_fn(p, target)
        return loss_fn.backward()

    return check_function(lambda p: loss_fn(p, target), grad, pred, names=["pred"])["pred"]


def make_case(kind, rng, n=5, c=4):
    """(loss class, pred, target) with targets of the kind the loss expects."""
    if kind == "mse":
        return MSELoss, rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
    if kind == "ce_labels":
        return CrossEntropyLoss, rng.normal(scale=2.0, size=(n, c)), rng.integers(0, c, size=n)
    if kind == "ce_probs":
        t = rng.uniform(0.1, 1.0, size=(n, c))
        return CrossEntropyLoss, rng.normal(scale=2.0, size=(n, c)), t / t.sum(axis=1, keepdims=True)
    if kind == "bce":
        return BCELoss, rng.uniform(0.05, 0.95, size=(n, 2)), rng.uniform(0.0, 1.0, size=(n, 2))
    if kind == "bce_logits":
        return BCEWithLogitsLoss, rng.normal(scale=3.0, size=(n, 2)), rng.integers(0, 2, size=(n, 2)).astype(float)
    raise AssertionError(kind)


KINDS = ["mse", "ce_labels", "ce_probs", "bce", "bce_logits"]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("kind", KINDS)
def test_loss_backward_matches_finite_differences(kind, reduction, rng):
    cls, pred, target = make_case(kind, rng)
    assert loss_gradcheck(cls(reduction=reduction), pred, target) < 1e-6


def torch_loss(torch, kind, pred, target, reduction):
    F = torch.nn.functional
    if kind == "mse":
        return F.mse_loss(pred, torch.tensor(target), reduction=reduction)
    if kind == "ce_labels":
        return F.cross_entropy(pred, torch.tensor(target, dtype=torch.long), reduction=reduction)
    if kind == "ce_probs":
        return F.cross_entropy(pred, torch.tensor(target), reduction=reduction)
    if kind == "bce":
        return F.binary_cross_entropy(pred, torch.tensor(target), reduction=reduction)
    return F.binary_cross_entropy_with_logits(pred, torch.tensor(target), reduction=reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("kind", KINDS)
def test_loss_value_and_gradient_match_torch(kind, reduction, torch, rng):
    cls, pred, target = make_case(kind, rng, n=7, c=5)
    loss_fn = cls(reduction=reduction)
    value = loss_fn(pred, target)
    grad = loss_fn.backward()

    pt = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    expected = torch_loss(torch, kind, pt, target, reduction)
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_loss_returns_a_python_float_and_a_gradient_shaped_like_pred(kind, rng):
    cls, pred, target = make_case(kind, rng)
    loss_fn = cls()
    assert type(loss_fn(pred, target)) is float
    assert loss_fn.backward().shape == pred.shape


@pytest.mark.parametrize("kind", KINDS)
def test_sum_reduction_is_mean_times_the_count(kind, rng):
    cls, pred, target = make_case(kind, rng)
    count = len(pred) if cls is CrossEntropyLoss else pred.size
    mean_fn, sum_fn = cls(), cls(reduction="sum")
    assert sum_fn(pred, target) == pytest.approx(count * mean_fn(pred, target), rel=1e-12)
    np.testing.assert_allclose(sum_fn.backward(), count * mean_fn.backward(), rtol=1e-12)


def test_mse_is_the_average_squared_difference_over_all_elements():
    assert MSELoss()(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [0.0, 4.0]])) == pytest.approx(13 / 4)


def test_softmax_cross_entropy_gradient_is_p_minus_y(rng):
    logits = rng.normal(size=(4, 3))
    labels = np.array([2, 0, 1, 2])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)   # small logits: direct formula is safe
    y = np.zeros((4, 3))
    for row, label in enumerate(labels):
        y[row, label] = 1.0
    loss_sum, loss_mean = CrossEntropyLoss(reduction="sum"), CrossEntropyLoss()
    assert loss_sum(logits, labels) == pytest.approx(-np.log(p[np.arange(4), labels]).sum(), rel=1e-12)
    np.testing.assert_allclose(loss_sum.backward(), p - y, atol=1e-14)
    loss_mean(logits, labels)
    np.testing.assert_allclose(loss_mean.backward(), (p - y) / 4, atol=1e-14)


def test_cross_entropy_with_one_hot_probabilities_equals_labels(rng):
    logits = rng.normal(size=(5, 4))
    labels = np.array([3, 1, 0, 0, 2])
    a, b = CrossEntropyLoss(), CrossEntropyLoss()
    assert a(logits, labels) == pytest.approx(b(logits, np.eye(4)[labels]), rel=1e-14)
    np.testing.assert_allclose(a.backward(), b.backward(), atol=1e-15)


HUGE = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [5e3, 1e4, -1e4]])


def quiet(fn):
    """Run fn with every numpy floating-point problem (except harmless underflow) as an error."""
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        return fn()


PROBS = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])


@pytest.mark.parametrize("target", [np.array([1, 0, 2]), PROBS], ids=["labels", "probs"])
def test_cross_entropy_is_stable_for_logits_of_1e4_and_matches_torch(target, torch):
    loss_fn = CrossEntropyLoss()
    value = quiet(lambda: loss_fn(HUGE, target))
    grad = quiet(loss_fn.backward)
    assert np.isfinite(value) and np.all(np.isfinite(grad))

    pt = torch.tensor(HUGE, requires_grad=True)
    tt = torch.tensor(target) if target.ndim == 2 else torch.tensor(target, dtype=torch.long)
    expected = torch.nn.functional.cross_entropy(pt, tt)
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-10)
    np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_bce_with_logits_is_stable_for_logits_of_1e4_and_matches_torch(torch):
    x = np.array([[1e4, -1e4], [-1e4, 1e4], [0.0, 30.0]])
    t = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.3]])
    loss_fn = BCEWithLogitsLoss()
    value = quiet(lambda: loss_fn(x, t))
    grad = quiet(loss_fn.backward)
    assert np.isfinite(value) and np.all(np.isfinite(grad))

    pt = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(pt, torch.tensor(t))
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-10)
    np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_bce_clamps_log_so_certain_wrong_predictions_give_a_finite_loss():
    loss_fn = BCELoss(reduction="sum")
    value = quiet(lambda: loss_fn(np.array([0.0, 1.0, 1.0]), np.array([1.0, 0.0, 1.0])))
    assert value == pytest.approx(-2 * np.log(1e-12), rel=1e-12)   # two certain mistakes, one certain hit
    grad = quiet(loss_fn.backward)
    np.testing.assert_allclose(grad, [-1e12, 1e12, 0.0])
    assert np.all(np.isfinite(grad))


def test_bce_with_logits_equals_bce_after_sigmoid(rng):
    x, t = rng.normal(size=(6, 1)), rng.uniform(size=(6, 1))
    p = 1 / (1 + np.exp(-x))
    assert BCEWithLogitsLoss()(x, t) == pytest.approx(BCELoss()(p, t), rel=1e-12)


# --- learner errors -----------------------------------------------------------------------

@pytest.mark.parametrize("cls", [MSELoss, BCELoss, BCEWithLogitsLoss])
def test_pred_n_by_1_with_target_n_is_a_shape_error_explaining_the_reshape(cls):
    with pytest.raises(ShapeError, match=r"got pred of shape \(4, 1\) and target of shape \(4,\); they must "
                                         r"have the same shape.*target = target\.reshape\(4, 1\)\..*"
                                         r"broadcast them to \(4, 4\)"):
        cls()(np.full((4, 1), 0.5), np.full(4, 0.5))


def test_shape_error_for_different_sizes_says_so():
    with pytest.raises(ShapeError, match=r"different numbers of values \(4 vs 3\).*same batch"):
        MSELoss()(np.zeros(4), np.zeros(3))


def test_cross_entropy_rejects_float_labels():
    with pytest.raises(LabelError, match=r"class labels must be integers, but the target has dtype float64\. "
                                         r"Whole numbers stored as floats: pass target\.astype\(int\)"):
        CrossEntropyLoss()(np.zeros((3, 2)), np.array([0.0, 1.0, 1.0]))


def test_cross_entropy_names_out_of_range_labels_and_the_valid_range():
    with pytest.raises(LabelError, match=r"labels must be in \[0, 3\) because there are 3 classes \(columns of the "
                                         r"logits\), but got 3 at index 1, -1 at index 3\. Labels that start at 1"):
        CrossEntropyLoss()(np.zeros((4, 3)), np.array([0, 3, 2, -1]))


def test_cross_entropy_shows_at_most_five_bad_labels():
    with pytest.raises(LabelError, match=r"but got 7 at index 0, 8 at index 1, 9 at index 2, 10 at index 3, "
                                         r"11 at index 4 and 2 more\. Labels"):
        CrossEntropyLoss()(np.zeros((7, 2)), np.arange(7, 14))


def test_cross_entropy_rejects_the_wrong_number_of_labels():
    with pytest.raises(LabelError, match=r"got 5 labels for 4 rows of logits; it needs exactly one label per row"):
        CrossEntropyLoss()(np.zeros((4, 3)), np.zeros(5, dtype=int))


def test_cross_entropy_rejects_probability_rows_that_do_not_sum_to_one():
    target = np.array([[0.5, 0.5], [0.3, 0.4], [1.0, 0.0]])
    with pytest.raises(LabelError, match=r"must be non-negative and sum to 1, but row 1 sums to 0\.7; "
                                         r"1 of 3 rows are off"):
        CrossEntropyLoss()(np.zeros((3, 2)), target)


def test_cross_entropy_rejects_negative_probabilities_even_if_the_row_sums_to_one():
    with pytest.raises(LabelError, match=r"row 0 sums to 1 and has negative entries"):
        CrossEntropyLoss()(np.zeros((1, 2)), np.array([[1.5, -0.5]]))


def test_cross_entropy_rejects_labels_shaped_n_by_1_and_suggests_flattening():
    with pytest.raises(ShapeError, match=r"got logits of shape \(3, 4\) and target of shape \(3, 1\).*"
                                         r"flatten them with target\.reshape\(-1\)"):
        CrossEntropyLoss()(np.zeros((3, 4)), np.array([[0], [1], [2]]))


def test_cross_entropy_rejects_one_dimensional_logits():
    with pytest.raises(ShapeError, match=r"expects logits of shape \(N, C\).*but got shape \(3,\)\. For a "
                                         r"single example use logits\.reshape\(1, -1\)"):
        CrossEntropyLoss()(np.zeros(3), np.array([0]))


def test_bce_rejects_predictions_outside_zero_one_and_suggests_sigmoid():
    with pytest.raises(ProbabilityError, match=r"expects predicted probabilities in \[0, 1\], but pred ranges "
                                               r"from -2 to 3\. Did you forget a Sigmoid.*BCEWithLogitsLoss"):
        BCELoss()(np.array([-2.0, 0.5, 3.0]), np.array([0.0, 1.0, 1.0]))


def test_probability_error_is_a_bplearn_value_error():
    assert issubclass(ProbabilityError, BplearnError) and issubclass(ProbabilityError, ValueError)


@pytest.mark.parametrize("cls", [BCELoss, BCEWithLogitsLoss])
def test_binary_losses_reject_targets_outside_zero_one(cls):
    with pytest.raises(LabelError, match=r"targets must be in \[0, 1\] \(0/1 labels or probabilities\), but "
                                         r"they range from -1 to 1\. For labels -1/\+1 use \(t \+ 1\) / 2"):
        cls()(np.array([0.2, 0.7]), np.array([-1.0, 1.0]))


@pytest.mark.parametrize("kind", KINDS)
def test_nan_prediction_raises_non_finite_error_naming_the_loss(kind, rng):
    cls, pred, target = make_case(kind, rng)
    pred[1, 0] = np.nan
    with pytest.raises(NonFiniteError, match=rf"^{cls.__name__}\(reduction='mean'\): NaN or inf in the "
                                             r"(prediction|logits) \(1 of \d+ values\)\. .*training has diverged"):
        cls()(pred, target)


def test_nan_target_raises_non_finite_error_blaming_the_targets():
    with pytest.raises(NonFiniteError, match=r"^MSELoss\(reduction='mean'\): NaN or inf in the target \(1 of 3 "
                                             r"values\)\. .*if it is your data, clean it first"):
        MSELoss()(np.zeros(3), np.array([0.0, np.nan, 1.0]))


def test_overflowing_loss_raises_non_finite_error_with_the_general_hint():
    with np.errstate(over="ignore"), pytest.raises(NonFiniteError, match=r"the MSELoss value is not finite.*"
                                                                          r"so large \(up to 1e\+200\) that the "
                                                                          r"loss overflowed.*smaller learning rate"):
        MSELoss()(np.array([1e200]), np.array([0.0]))


@pytest.mark.parametrize("cls", [MSELoss, CrossEntropyLoss, BCELoss, BCEWithLogitsLoss])
def test_loss_backward_before_forward_says_run_forward_first(cls):
    with pytest.raises(BackwardBeforeForwardError, match=rf"^{cls.__name__}\(reduction='mean'\)\.backward\(\) "
                                                         r"was called before forward\(\)"):
        cls().backward()


def test_unknown_reduction_is_rejected():
    with pytest.raises(ValueError, match=r"MSELoss: reduction must be one of 'mean', 'sum'; got 'avg'"):
        MSELoss(reduction="avg")


def test_empty_batch_is_a_shape_error():
    with pytest.raises(ShapeError, match=r"got an empty batch \(pred has shape \(0, 3\)\)"):
        CrossEntropyLoss()(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_loss_rejects_string_predictions_with_dtype_error():
    with pytest.raises(DTypeError, match=r"MSELoss: the prediction has dtype <U1"):
        MSELoss()(np.array(["a"]), np.array([1.0]))
