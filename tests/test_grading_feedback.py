"""bplearn.feedback: every diagnosis names the mistake a learner actually made."""
import numpy as np
import pytest

from bplearn.errors import BplearnError
from bplearn.feedback import GradingFeedback, check_close, check_gradient, check_scalar

EXPECTED = np.arange(1.0, 13.0).reshape(3, 4)       # a (3, 4) "gradient" with no zeros
SQUARE = np.array([[1.0, 2.0], [3.0, 4.0]])


def feedback(check, *args, **kwargs) -> str:
    with pytest.raises(GradingFeedback) as info:
        check(*args, **kwargs)
    return str(info.value)


# --- right answers ---------------------------------------------------------------------------

def test_correct_gradient_prints_a_tick_with_its_shape(capsys):
    check_gradient("dW", EXPECTED + 1e-9, EXPECTED)
    assert capsys.readouterr().out == "✓ dW is correct (shape (3, 4)).\n"


def test_correct_value_and_scalar_print_a_tick(capsys):
    check_close("loss", 0.25, 0.25)
    check_close("w", np.ones(3), np.ones(3))
    check_scalar("dL/dw", np.float64(-0.4), -0.4)
    assert capsys.readouterr().out.splitlines() == [
        "✓ loss is correct.", "✓ w is correct (shape (3,)).", "✓ dL/dw is correct."]


def test_quiet_checks_print_nothing(capsys):
    check_gradient("dW", EXPECTED, EXPECTED, quiet=True)
    check_close("w", 1.0, 1.0, quiet=True)
    check_scalar("x", 2.0, 2.0, quiet=True)
    assert capsys.readouterr().out == ""


def test_feedback_is_an_assertion_error_so_graders_count_a_failed_test():
    assert issubclass(GradingFeedback, AssertionError)
    assert issubclass(GradingFeedback, BplearnError)


def test_gradient_tolerance_accepts_finite_difference_noise_but_not_a_real_error():
    check_gradient("dW", EXPECTED * (1 + 1e-7), EXPECTED, quiet=True)
    with pytest.raises(GradingFeedback):
        check_gradient("dW", EXPECTED * (1 + 1e-3), EXPECTED, quiet=True)


# --- not an answer at all ---------------------------------------------------------------------

def test_none_suggests_a_missing_return():
    assert "dW is None. Did your function forget to `return` it?" in feedback(check_gradient, "dW", None, EXPECTED)


@pytest.mark.parametrize("value, kind", [([1.0, 2.0], "list of length 2"), ((1.0, 2.0, 3.0), "tuple of length 3")])
def test_a_list_or_tuple_is_not_an_array(value, kind):
    message = feedback(check_gradient, "dW", value, EXPECTED)
    assert f"dW is a {kind}, not a NumPy array" in message
    assert "unpacked them in the right order" in message


def test_a_string_is_not_an_array_of_numbers():
    assert "dW should be a NumPy array of numbers, but it is a str: 'oops'" in feedback(
        check_gradient, "dW", "oops", EXPECTED)


def test_an_object_array_is_not_numbers():
    assert "dW is an array of dtype object; it should hold real numbers" in feedback(
        check_gradient, "dW", np.array([None, 1], dtype=object), EXPECTED[0, :2])


def test_complex_numbers_are_rejected():
    assert "dW has complex numbers in it" in feedback(check_gradient, "dW", EXPECTED + 1j, EXPECTED)


@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "inf")])
def test_nan_and_inf_are_located_and_explained(bad, word):
    yours = EXPECTED.copy()
    yours[1, 2] = bad
    message = feedback(check_gradient, "dlogits", yours, EXPECTED)
    assert f"dlogits contains {word} (1 of 12 entries, the first at index (1, 2))" in message
    assert "subtract the maximum before exp()" in message


def test_a_reference_that_is_not_finite_is_a_bug_in_the_check():
    with pytest.raises(ValueError, match="reference value for dW is not finite"):
        check_gradient("dW", EXPECTED, EXPECTED * np.nan)


# --- wrong shape --------------------------------------------------------------------------------

def test_transposed_shape_says_it_looks_transposed_and_what_to_match():
    message = feedback(check_gradient, "dW", EXPECTED.T, EXPECTED, like="the weight W, (out_features, in_features)")
    assert message == ("dW has shape (4, 3) but should have shape (3, 4): it looks transposed. "
                       "dW should be shaped like the weight W, (out_features, in_features).")


def test_transposed_shape_without_like_explains_the_shape_rule():
    assert "same shape as the variable it is the gradient of" in feedback(check_gradient, "dW", EXPECTED.T, EXPECTED)


def test_an_unsummed_batch_axis_asks_to_sum_over_the_batch():
    message = feedback(check_gradient, "db", np.ones((5, 3)), np.ones(3))
    assert "db has shape (5, 3) but should have shape (3,)" in message
    assert "did you forget to sum over axis 0 (the batch axis)?" in message


def test_another_extra_axis_names_that_axis():
    message = feedback(check_gradient, "db", np.ones((3, 7)), np.ones(3))
    assert "did you forget to sum over axis 1?" in message and "batch axis" not in message


def test_same_number_of_entries_points_at_reshaping():
    assert "right number of entries, so check how you reshaped or flattened it" in feedback(
        check_gradient, "dW", EXPECTED.ravel(), EXPECTED)


def test_an_unrelated_shape_states_both_shapes():
    assert feedback(check_close, "out", np.ones(5), np.ones(3)) == "out has shape (5,) but should have shape (3,)."


# --- right shape, wrong values -----------------------------------------------------------------

def test_flipped_sign_is_recognised():
    assert "dW has the right size but the opposite sign" in feedback(check_gradient, "dW", -EXPECTED, EXPECTED)


def test_batch_size_times_too_large_asks_about_averaging_over_the_batch():
    message = feedback(check_gradient, "dlogits", 8 * EXPECTED, EXPECTED, batch_size=8)
    assert "dlogits is 8 times too large, and 8 is the batch size. Did you average the loss over the batch?" in message


def test_batch_size_times_too_small_says_the_division_is_doubled_or_misplaced():
    message = feedback(check_gradient, "dW", EXPECTED / 8, EXPECTED, batch_size=8)
    assert "dW is 8 times too small, and 8 is the batch size" in message
    assert "divide by the batch size twice" in message


def test_twice_and_half_point_at_the_factor_two_of_a_square():
    assert "dL/dw is twice the expected value: a factor 2 is counted twice" in feedback(
        check_scalar, "dL/dw", 1.0, 0.5)
    assert "dL/dw is half the expected value: a factor 2 is missing" in feedback(check_scalar, "dL/dw", 0.25, 0.5)


def test_a_wrong_sign_and_a_factor_are_both_reported():
    assert "dW has the wrong sign and is twice the expected value" in feedback(
        check_gradient, "dW", -2 * EXPECTED, EXPECTED)


def test_other_constant_factor_is_reported_with_its_value():
    message = feedback(check_gradient, "dW", 1.7 * EXPECTED, EXPECTED)
    assert "dW is 1.7 times the expected value in every entry" in message
    assert "batch size" not in message


def test_a_whole_factor_without_batch_size_suggests_it_might_be_the_batch():
    message = feedback(check_gradient, "dW", 5 * EXPECTED, EXPECTED)
    assert "It is 5 times too large: if 5 is your batch size, check the average over the batch." in message


def test_single_numbers_only_report_telling_factors():
    assert feedback(check_scalar, "dL/dw", 1.7, 0.5) == "dL/dw is 1.7 but should be 0.5."


def test_all_zeros_suggests_nothing_was_accumulated():
    assert "dW is all zeros, but it should not be" in feedback(check_gradient, "dW", np.zeros((3, 4)), EXPECTED)
    assert "dL/dw is 0, but it should not be" in feedback(check_scalar, "dL/dw", 0.0, 0.5)


def test_transposed_values_of_a_square_matrix_point_at_the_product_order():
    assert "dWh equals the transpose of the expected value. Check the order of the matrix product" in feedback(
        check_gradient, "dWh", SQUARE.T, SQUARE)


def test_scattered_errors_name_the_worst_entry_and_append_the_hint():
    yours = EXPECTED.copy()
    yours[2, 1] += 3.0
    yours[0, 0] += 1.0
    message = feedback(check_gradient, "dx", yours, EXPECTED, hint="overlapping patches must add up")
    assert message.startswith("dx is wrong in 2 of 12 entries. The largest difference is at index (2, 1): "
                              "yours is 13, the expected value is 10.")
    assert message.endswith("Hint: overlapping patches must add up")


# --- check_scalar needs one number ---------------------------------------------------------------

def test_scalar_given_as_a_one_element_array_asks_for_item():
    assert "dL/dw is an array of shape (1,), but a single number is expected. Take the number out with float(...) " \
           "or .item()." == feedback(check_scalar, "dL/dw", np.array([0.5]), 0.5)


def test_scalar_given_as_a_longer_array_asks_about_summing():
    assert "a single number is expected. Did you forget to sum (or average)" in feedback(
        check_scalar, "loss", np.ones(4), 1.0)


def test_scalar_rejects_none_booleans_and_tuples():
    assert "loss is None" in feedback(check_scalar, "loss", None, 1.0)
    assert "loss is True, a boolean; it should be a number." == feedback(check_scalar, "loss", True, 1.0)
    assert "loss is a tuple of length 2" in feedback(check_scalar, "loss", (1.0, 2.0), 1.0)


def test_scalar_batch_factor_is_recognised():
    assert "loss is 6 times too large, and 6 is the batch size" in feedback(check_scalar, "loss", 6.0, 1.0, batch_size=6)
