"""bplearn: learn backpropagation by doing it.

Scalar autograd lives in ``bplearn.engine``; vector layers, losses and the Module
API in ``bplearn.nn``; then ``optim``, ``init``, ``gradcheck``, ``data``, ``train``.
"""
__version__ = "0.1.0"
