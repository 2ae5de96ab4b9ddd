"""Small sequence tasks for recurrent networks, generated on the spot (no downloads).

Each task needs a model to carry information across time steps; how far it must
carry it is a knob, so the same task can be easy for a plain RNN at short range
and show where it breaks down at long range.

* ``adding_problem``  add the two marked numbers of a long sequence (regression)
* ``copy_memory``     read a few symbols, wait, then write them back (classification per step)
* ``reversal``        read a sequence, then write it backwards
* ``char_sequences``  predict the next character of shipped nursery-rhyme text

Shapes are batch first, (n, T, ...), like the RNN and LSTM layers. Token tasks
return integer ids; feed them to ``nn.Embedding`` or turn them into one-hot
vectors with ``one_hot``. Every random task takes ``rng`` (seed or Generator).
"""
from __future__ import annotations

from importlib import resources

import numpy as np

from ..errors import check_count
from ..nn.init import make_rng
from ..nn.losses import one_hot


def adding_problem(n: int = 1000, length: int = 50, rng=0) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber, 1997).

    Each step carries two numbers: a value drawn from U(0, 1), and a marker that is 1
    at exactly two steps (one in the first half, one in the second half) and 0
    elsewhere. The target is the sum of the two marked values. The first marked value
    must be remembered for up to ``length`` steps, past all the distracting ones.

    -> x: (n, length, 2) float64, [:, :, 0] values and [:, :, 1] markers;
       y: (n, 1) float64 in [0, 2]
    Always answering 1.0 gives a mean squared error of about 1/6 (0.167): a model has
    learned something only once it goes clearly below that.
    """
    n, length = check_count("adding_problem", "n", n), check_count("adding_problem", "length", length, 2)
    rng = make_rng(rng)
    values = rng.uniform(0.0, 1.0, size=(n, length))
    half = length // 2
    first = rng.integers(0, half, size=n)                   # one mark in the first half ...
    second = rng.integers(half, length, size=n)             # ... and one in the second half
    markers = np.zeros((n, length))
    rows = np.arange(n)
    markers[rows, first] = markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)                # (n, length, 2)
    y = (values[rows, first] + values[rows, second]).reshape(n, 1)
    return x, y


def copy_memory(n: int = 1000, length: int = 5, delay: int = 20, num_symbols: int = 8,
                rng=0) -> tuple[np.ndarray, np.ndarray]:
    """The copy-memory task (as in Arjovsky, Shah & Bengio, 2016).

    Tokens: 0 = blank, 1..num_symbols = symbols, num_symbols + 1 = "now copy" signal,
    so a vocabulary of num_symbols + 2. The input is ``length`` random symbols, then
    ``delay - 1`` blanks, the signal, and ``length`` more blanks. The target is blank
    everywhere except the last ``length`` steps, which must repeat the symbols.

    -> x: (n, T) int64 and y: (n, T) int64 with T = 2 * length + delay
    Guessing blanks, then random symbols, gives a cross-entropy of
    length * ln(num_symbols) / T per step: the "memoryless" baseline to beat.
    """
    where = "copy_memory"
    n, length, delay = check_count(where, "n", n), check_count(where, "length", length), check_count(where, "delay", delay)
    num_symbols = check_count(where, "num_symbols", num_symbols)
    rng = make_rng(rng)
    T = 2 * length + delay
    symbols = rng.integers(1, num_symbols + 1, size=(n, length))
    x = np.zeros((n, T), dtype=np.int64)
    y = np.zeros((n, T), dtype=np.int64)
    x[:, :length] = symbols
    x[:, length + delay - 1] = num_symbols + 1              # the signal: start copying now
    y[:, -length:] = symbols
    return x, y


def reversal(n: int = 1000, length: int = 5, num_tokens: int = 4, rng=0,
             one_hot_inputs: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Sequence reversal: read ``length`` tokens, then write them in reverse order.

    A one-directional RNN cannot answer before it has read everything, so the input is
    the tokens followed by ``length`` copies of a "go" token (id ``num_tokens``), and
    the answer is read off the last ``length`` steps: step length + j must output
    token length - 1 - j.

    -> x: (n, 2 * length) int64 ids in [0, num_tokens] (vocabulary num_tokens + 1),
          or (n, 2 * length, num_tokens + 1) float64 if ``one_hot_inputs``;
       y: (n, length) int64 ids in [0, num_tokens), compare with model outputs [:, length:]
    """
    where = "reversal"
    n, length = check_count(where, "n", n), check_count(where, "length", length)
    num_tokens = check_count(where, "num_tokens", num_tokens)
    tokens = make_rng(rng).integers(0, num_tokens, size=(n, length))
    x = np.concatenate([tokens, np.full((n, length), num_tokens)], axis=1)
    y = tokens[:, ::-1].copy()
    return (one_hot(x, num_tokens + 1) if one_hot_inputs else x), y


def load_rhymes() -> str:
    """The shipped text: traditional English nursery rhymes (public domain), about 2 KB.

    Sources are listed in bplearn/data/files/README_nursery_rhymes.txt.
    """
    return resources.files("bplearn.data").joinpath("files", "nursery_rhymes.txt").read_text(encoding="utf-8")


def char_sequences(seq_len: int = 32, stride: int | None = None,
                   text: str | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Next-character prediction: windows of text, each target the input shifted by one.

    Characters become ids by their position in ``chars``, the sorted list of distinct
    characters (``"".join(chars[i] for i in ids)`` turns ids back into text). Windows
    of seq_len + 1 characters start every ``stride`` characters (default seq_len,
    i.e. no overlap).

    -> x: (n, seq_len) int64, y: (n, seq_len) int64 with y[:, t] = the character after
       x[:, t], and chars: list of the vocabulary's characters
    text: defaults to ``load_rhymes()``.
    """
    seq_len = check_count("char_sequences", "seq_len", seq_len)
    stride = seq_len if stride is None else check_count("char_sequences", "stride", stride)
    text = load_rhymes() if text is None else text
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.array([index[c] for c in text], dtype=np.int64)
    starts = np.arange(0, len(ids) - seq_len, stride)
    if starts.size == 0:
        raise ValueError(f"char_sequences: the text has {len(ids)} characters, "
                         f"too few for seq_len={seq_len}.")
    windows = ids[starts[:, None] + np.arange(seq_len + 1)]  # (n, seq_len + 1)
    return windows[:, :-1], windows[:, 1:], chars
