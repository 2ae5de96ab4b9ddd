"""Speed comparisons of bplearn against PyTorch (CPU) and bare numpy.

Not tests: run them by hand with ``python -m benchmarks.run`` (see run.py).
"""
