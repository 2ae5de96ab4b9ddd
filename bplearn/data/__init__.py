"""Data for the lessons; everything is generated or shipped, nothing is downloaded.

    toy        small 2-D sets (xor, moons, spirals, circles), regression, train_val_split, DataLoader
    images     handwritten digits (shipped, 8x8) and synthetic shapes
    sequences  the adding problem, copy memory, reversal, nursery-rhyme text, one_hot

    from bplearn import data
    X, y = data.moons(n=200, rng=0)
"""
from .images import SHAPE_NAMES, load_digits, shapes
from .sequences import adding_problem, char_sequences, copy_memory, load_rhymes, one_hot, reversal
from .toy import DataLoader, circles, linear_regression, moons, spirals, train_val_split, xor

__all__ = [
    "xor", "moons", "spirals", "circles", "linear_regression", "train_val_split", "DataLoader",
    "load_digits", "shapes", "SHAPE_NAMES",
    "adding_problem", "copy_memory", "reversal", "char_sequences", "load_rhymes", "one_hot",
]
