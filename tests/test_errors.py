"""bplearn.errors: conversions and checks that turn learner mistakes into clear messages."""
import numpy as np
import pytest

from bplearn.errors import (BackwardBeforeForwardError, BplearnError, DTypeError, LabelError, NonFiniteError,
                            ShapeError, all_finite, as_float_array, check_choice, check_count, check_finite, check_input,
                            check_number, check_shape)
from bplearn.nn.linear import Linear


def test_lists_become_float64_arrays():
    arr = as_float_array("Layer", [[1, 2], [3, 4]])
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float64
    np.testing.assert_array_equal(arr, [[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint16, bool])
def test_integer_and_bool_arrays_become_float64_or_the_layers_dtype(dtype):
    arr = as_float_array("Layer", np.array([0, 1, 1], dtype=dtype))
    assert arr.dtype == np.float64
    np.testing.assert_array_equal(arr, [0.0, 1.0, 1.0])
    assert as_float_array("Layer", np.array([0, 1], dtype=dtype), dtype=np.float32).dtype == np.float32


def test_lists_take_the_layers_dtype_because_they_have_none_of_their_own():
    assert as_float_array("Layer", [[0.5, 1.0]], dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble])
def test_half_and_long_double_are_not_supported(dtype):
    if np.dtype(dtype) == np.float64:
        pytest.skip("long double is float64 on this platform")
    with pytest.raises(DTypeError, match=rf"^Layer: dtype {np.dtype(dtype)} is not supported; bplearn computes in "
                                         r"float32 or float64"):
        as_float_array("Layer", np.zeros(3, dtype=dtype))


def test_the_other_float_precision_is_refused_with_both_fixes():
    with pytest.raises(DTypeError, match=r"^Layer has float32 parameters but the input is float64\. bplearn never "
                                         r"casts silently: call model\.to\(np\.float64\) .* or cast the input with "
                                         r"\.astype\(np\.float32\)\.$"):
        as_float_array("Layer", np.zeros(3), dtype=np.float32)


def test_check_input_names_the_layer_and_counts_the_non_finite_values():
    layer = Linear(2, 2)
    with pytest.raises(NonFiniteError, match=r"^Linear\(in_features=2, out_features=2, bias=True\): NaN or inf in "
                                             r"the input \(2 of 4 values\)\. .*smaller learning rate"):
        check_input(layer, np.array([[np.nan, 1.0], [np.inf, 0.0]]))
    huge = np.full(4, 1e308)                                # finite, but its sum overflows
    assert check_input("Layer", huge) is huge


def test_argument_checks_name_the_function_the_argument_and_the_range():
    assert check_count("f", "n", 3) == 3 and check_number("f", "lr", 0.1, low=0, low_inclusive=False) == 0.1
    with pytest.raises(TypeError, match=r"^f: n must be a whole number >= 1, got 2\.5\.$"):
        check_count("f", "n", 2.5)
    with pytest.raises(ValueError, match=r"^f: n must be a whole number >= 1, got 0\.$"):
        check_count("f", "n", 0)
    with pytest.raises(ValueError, match=r"^f: lr must be in \(0, inf\), got 0\.0\.$"):
        check_number("f", "lr", 0, low=0, low_inclusive=False)
    with pytest.raises(TypeError, match=r"^f: lr must be a number, got True \(bool\)\.$"):
        check_number("f", "lr", True)
    with pytest.raises(ValueError, match=r"^f: mode must be one of 'a', 'b'; got 'c'\.$"):
        check_choice("f", "mode", "c", ("a", "b"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_and_float64_are_kept_without_a_copy(dtype):
    x = np.ones(3, dtype=dtype)
    assert as_float_array("Layer", x) is x


def test_strings_raise_dtype_error_naming_the_layer_and_the_fix():
    with pytest.raises(DTypeError, match=r"^MyLayer: the target has dtype <U3, but bplearn needs real numbers\. "
                                         r"Convert it first, e\.g\. np\.asarray\(x, dtype=float\)\.$"):
        as_float_array("MyLayer", ["cat", "dog"], what="target")


def test_complex_numbers_raise_dtype_error():
    with pytest.raises(DTypeError, match=r"has dtype complex128, but bplearn needs real numbers"):
        as_float_array("Layer", np.array([1 + 2j]))


def test_ragged_lists_raise_dtype_error_instead_of_a_numpy_traceback():
    with pytest.raises(DTypeError, match=r"^Layer: could not turn the input into an array"):
        as_float_array("Layer", [[1, 2], [3]])


def test_as_float_array_names_a_layer_instance_by_its_class():
    with pytest.raises(DTypeError, match=r"^Linear: the input has dtype object"):
        as_float_array(Linear(2, 2), np.array([None, 1], dtype=object))


def test_check_shape_accepts_matching_shapes_with_wildcards():
    check_shape("Layer", np.zeros((7, 3)), (None, 3))
    check_shape("Layer", np.zeros((2, 5, 3)), (None, None, 3))
    check_shape("Layer", np.zeros(4), (4,))


def test_check_shape_names_the_layer_expected_and_actual_shapes():
    with pytest.raises(ShapeError, match=r"^Linear\(3, 2\) expected input of shape \(N, 3\) but got \(4, 5\)\.$"):
        check_shape("Linear(3, 2)", np.zeros((4, 5)), (None, 3))


def test_check_shape_explains_a_wrong_number_of_dimensions_and_adds_the_hint():
    with pytest.raises(ShapeError, match=r"^Conv expected input of shape \(N, 3, 8, 8\) but got \(3, 8, 8\)\. "
                                         r"It needs 4 dimensions, the input has 3\. Add a batch axis\.$"):
        check_shape("Conv", np.zeros((3, 8, 8)), (None, 3, 8, 8), hint="Add a batch axis.")


def test_check_shape_writes_one_element_tuples_like_python():
    with pytest.raises(ShapeError, match=r"expected input of shape \(3,\) but got \(2,\)\."):
        check_shape("Bias", np.zeros(2), (3,))


def test_check_shape_uses_the_repr_of_a_layer_instance():
    with pytest.raises(ShapeError, match=r"^Linear\(in_features=2, out_features=1, bias=True\) expected"):
        check_shape(Linear(2, 1), np.zeros((1, 3)), (None, 2))


def test_check_finite_passes_finite_values():
    check_finite(np.array([0.0, -1e300, 1e300]), "loss")
    check_finite(3.0, "loss")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_finite_rejects_nan_and_inf_with_the_default_hint(bad):
    with pytest.raises(NonFiniteError, match=r"^the loss is not finite \(NaN or inf\)\. This usually means the "
                                             r"learning rate is too high"):
        check_finite(np.array([1.0, bad]), "the loss")


def test_check_finite_uses_a_custom_hint():
    with pytest.raises(NonFiniteError, match=r"^grad is not finite \(NaN or inf\)\. Clip the gradients\.$"):
        check_finite(np.nan, "grad", hint="Clip the gradients.")


@pytest.mark.parametrize("cls, builtin", [
    (ShapeError, ValueError), (LabelError, ValueError), (DTypeError, TypeError),
    (NonFiniteError, FloatingPointError), (BackwardBeforeForwardError, RuntimeError),
])
def test_errors_are_bplearn_errors_and_familiar_builtins(cls, builtin):
    assert issubclass(cls, BplearnError) and issubclass(cls, builtin)


@pytest.mark.parametrize("array", [
    np.zeros(0), np.float32(3.0), np.full((3, 3), 1e30, dtype=np.float32), np.array([1e200, 1e200]),
    np.array([1.0, np.nan]), np.array([np.inf, 1.0]), np.array([-np.inf]), np.array([1e200, -np.inf]),
    np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1), np.arange(24.0).reshape(4, 6)[:, ::2],
    np.where(np.eye(4) > 0, np.nan, 1.0).T[::2],
])
def test_all_finite_agrees_with_isfinite_for_any_layout_and_never_warns(array):
    # the fast path is a sum of squares: huge finite entries overflow it, which must not
    # count as NaN/inf nor print an overflow warning in the learner's notebook
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all_finite(array) == bool(np.isfinite(array).all())
