"""im2col / col2im and the window helpers shared by Conv2d and the pools."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bplearn.nn.im2col import col2im, im2col, output_hw, output_size, pad, pair, show_pair


def test_im2col_column_holds_the_patch_in_weight_order(rng):
    x = rng.normal(size=(2, 5, 6, 3))                       # (C, H, W, N)
    cols = im2col(x, (2, 3), (2, 1))
    ho, wo = 2, 4                                           # (5-2)//2+1, (6-3)//1+1
    assert cols.shape == (2 * 2 * 3, ho * wo * 3)
    a, b, n = 1, 2, 2                                       # output pixel (1, 2) of image 2
    patch = x[:, 2 * a:2 * a + 2, b:b + 3, n]               # (C, kh, kw)
    np.testing.assert_array_equal(cols[:, (a * wo + b) * 3 + n], patch.reshape(-1))


@settings(max_examples=30, deadline=None)
@given(c=st.integers(1, 3), n=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_col2im_is_the_adjoint_of_im2col(c, n, h, w, kh, kw, sh, sw, seed):
    # <im2col(x), y> == <x, col2im(y)> for all x, y: that is exactly what makes col2im
    # the right backward for im2col (it is its transpose as a linear map).
    assume(h >= kh and w >= kw)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(c, h, w, n))
    cols = im2col(x, (kh, kw), (sh, sw))
    y = rng.normal(size=cols.shape)
    back = col2im(y, x.shape, (kh, kw), (sh, sw))
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * y), np.sum(x * back), rtol=1e-12, atol=1e-12)


def test_col2im_counts_how_many_patches_cover_each_pixel():
    cover = col2im(np.ones((9, 3 * 3 * 1)), (1, 5, 5, 1), (3, 3), (1, 1))[0, :, :, 0]
    np.testing.assert_array_equal(cover[0], [1, 2, 3, 2, 1])
    np.testing.assert_array_equal(cover[2], [3, 6, 9, 6, 3])


def test_pad_surrounds_each_image_with_zeros():
    x = np.ones((1, 2, 2, 1))
    padded = pad(x, (1, 2))
    assert padded.shape == (1, 4, 6, 1)
    assert padded.sum() == 4 and padded[0, 1:3, 2:4, 0].sum() == 4


@pytest.mark.parametrize("size, kernel, stride, padding, expected", [
    (28, 3, 1, 1, 28), (28, 2, 2, 0, 14), (7, 2, 2, 0, 3), (5, 5, 1, 0, 1), (6, 3, 2, 1, 3)])
def test_output_size_follows_floor_formula(size, kernel, stride, padding, expected):
    assert output_size(size, kernel, stride, padding) == expected


def test_output_hw_counts_window_positions_down_and_across():
    assert output_hw(7, 6, (2, 3), (2, 1)) == (3, 4)        # (7-2)//2+1, (6-3)//1+1


def test_show_pair_writes_a_square_pair_as_one_int():
    assert show_pair((3, 3)) == "3" and show_pair((3, 2)) == "(3, 2)"


def test_pair_accepts_int_or_pair_and_rejects_the_rest():
    assert pair(3, "kernel_size", "L", 1) == (3, 3) and pair((2, 5), "stride", "L", 1) == (2, 5)
    assert pair(0, "padding", "L", 0) == (0, 0)
    for bad in (0, -1, True, 1.5, (1,), (1, 2, 3), "3"):
        with pytest.raises(ValueError, match=r"L: stride must be a positive int or a pair of them"):
            pair(bad, "stride", "L", 1)
