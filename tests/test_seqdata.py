"""Sequence tasks: shapes, dtypes, layouts, targets recomputed independently, seeding, errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bplearn import data


def test_adding_problem_shapes_markers_and_targets():
    x, y = data.adding_problem(n=50, length=12, rng=3)
    assert x.shape == (50, 12, 2) and y.shape == (50, 1)
    assert x.dtype == y.dtype == np.float64
    values, markers = x[..., 0], x[..., 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(markers)) == {0.0, 1.0}
    for row in range(50):
        marked = np.flatnonzero(markers[row])
        assert len(marked) == 2 and marked[0] < 6 <= marked[1]  # one in each half
        assert y[row, 0] == pytest.approx(values[row, marked[0]] + values[row, marked[1]], abs=1e-15)


def test_adding_problem_baseline_of_always_answering_one_is_about_a_sixth():
    _, y = data.adding_problem(n=20000, length=10, rng=0)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(1 / 6, abs=0.01)


def test_copy_memory_layout_and_targets():
    x, y = data.copy_memory(n=20, length=4, delay=7, num_symbols=5, rng=1)
    T = 2 * 4 + 7
    assert x.shape == y.shape == (20, T) and x.dtype == y.dtype == np.int64
    assert np.all((x[:, :4] >= 1) & (x[:, :4] <= 5))      # symbols
    assert not x[:, 4:10].any()                              # blanks while waiting
    assert np.all(x[:, 10] == 6)                             # "now copy" signal, id num_symbols + 1
    assert not x[:, 11:].any()
    assert not y[:, :-4].any()
    np.testing.assert_array_equal(y[:, -4:], x[:, :4])      # the copy


def test_reversal_inputs_and_targets():
    x, y = data.reversal(n=30, length=5, num_tokens=4, rng=2)
    assert x.shape == (30, 10) and y.shape == (30, 5) and x.dtype == y.dtype == np.int64
    assert np.all(x[:, 5:] == 4)                             # the "go" token
    for row in range(30):
        assert list(y[row]) == list(reversed(x[row, :5]))
    x1, y1 = data.reversal(n=30, length=5, num_tokens=4, rng=2, one_hot_inputs=True)
    assert x1.shape == (30, 10, 5) and x1.dtype == np.float64
    np.testing.assert_array_equal(x1.argmax(axis=-1), x)
    np.testing.assert_array_equal(x1.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(y1, y)


def test_char_sequences_targets_are_the_next_characters():
    x, y, chars = data.char_sequences(seq_len=20)
    text = data.load_rhymes()
    assert chars == sorted(set(text)) and len(chars) == len(set(chars))
    assert x.shape == y.shape and x.shape[1] == 20 and x.dtype == np.int64
    assert x.shape[0] == (len(text) - 20 + 19) // 20        # windows of 21 characters, every 20
    np.testing.assert_array_equal(y[:, :-1], x[:, 1:])
    for row in (0, 5, len(x) - 1):
        window = "".join(chars[i] for i in x[row]) + chars[y[row, -1]]
        assert window == text[20 * row: 20 * row + 21]


def test_char_sequences_on_given_text_with_stride():
    x, y, chars = data.char_sequences(seq_len=3, stride=1, text="abcab")
    assert chars == ["a", "b", "c"]
    np.testing.assert_array_equal(x, [[0, 1, 2], [1, 2, 0]])
    np.testing.assert_array_equal(y, [[1, 2, 0], [2, 0, 1]])


def test_shipped_text_is_a_few_kilobytes_of_rhymes():
    text = data.load_rhymes()
    assert 1500 < len(text.encode("utf-8")) < 10000
    assert "Twinkle, twinkle, little star" in text and "Humpty Dumpty" in text


def test_tasks_repeat_with_the_same_seed_and_differ_with_another():
    for make in (data.adding_problem, data.copy_memory, data.reversal):
        a, b, c = make(n=10, rng=5), make(n=10, rng=5), make(n=10, rng=6)
        np.testing.assert_array_equal(a[0], b[0])
        assert not np.array_equal(a[0], c[0])


def test_one_hot_and_its_errors():
    np.testing.assert_array_equal(data.one_hot(np.array([[2, 0]]), 3), [[[0, 0, 1], [1, 0, 0]]])
    with pytest.raises(ValueError, match=r"^one_hot: labels must be in \[0, 3\) .* but got 3 at index 1\."):
        data.one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match=r"^one_hot: class labels must be integers, but the target has dtype float64"):
        data.one_hot(np.array([0.0, 1.0]), 3)
    assert data.one_hot([1], 2, dtype=np.float32).dtype == np.float32


def test_bad_sizes_are_explained():
    with pytest.raises(ValueError, match="adding_problem: n must be a whole number >= 1, got 0"):
        data.adding_problem(n=0)
    with pytest.raises(ValueError, match="adding_problem: length must be a whole number >= 2, got 1"):
        data.adding_problem(length=1)
    with pytest.raises(TypeError, match="copy_memory: delay must be a whole number >= 1, got 2.5"):
        data.copy_memory(delay=2.5)
    with pytest.raises(ValueError, match="the text has 4 characters, too few for seq_len=4"):
        data.char_sequences(seq_len=4, text="abcd")


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 5), length=st.integers(1, 6), delay=st.integers(1, 6), k=st.integers(1, 6))
def test_copy_memory_answer_always_repeats_the_input_symbols(n, length, delay, k):
    x, y = data.copy_memory(n=n, length=length, delay=delay, num_symbols=k, rng=0)
    assert x.shape == (n, 2 * length + delay)
    np.testing.assert_array_equal(y[:, -length:], x[:, :length])
    assert np.all(x <= k + 1) and np.all((x == k + 1).sum(axis=1) == 1)
