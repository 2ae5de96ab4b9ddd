"""Parameter, Module and Sequential: the skeleton every vector layer hangs on.

A layer is a Module with two methods a learner can read side by side:

* ``forward(x)`` computes the output and caches what backward will need;
* ``backward(grad_out)`` takes dL/d(output), adds dL/d(parameter) into each
  ``Parameter.grad`` (``+=``, so gradients accumulate until ``zero_grad()``)
  and returns dL/d(input) for the layer below.

Names and shapes follow PyTorch so skills transfer.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..errors import BackwardBeforeForwardError, check_dtype


class Parameter:
    """A trainable array with a gradient of the same shape.

    data: ndarray (any shape), grad: ndarray, same shape, starts at zero.

    Gradients accumulate (``grad += ...``) until ``zero_grad()``. That call only notes that
    the gradient is now zero; the zeros are written when ``grad`` is next read, and
    ``add_product`` writes a layer's first contribution straight into the array instead.
    Writing zeros over a weight's gradient and then adding a new product to them costs two
    extra passes over that memory per step; writing the product straight in costs none
    (PyTorch saves the same work by setting gradients to None in zero_grad).
    """

    def __init__(self, data, name: str = ""):
        self.data = np.array(data, dtype=np.float64 if np.asarray(data).dtype != np.float32 else np.float32)
        self.grad = np.zeros_like(self.data)
        self.name = name

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def grad(self) -> np.ndarray:
        """dL/d(data), same shape and dtype as data."""
        if self._grad_is_zero:                   # zero_grad() was called and nothing was added since
            self._grad[...] = 0.0
            self._grad_is_zero = False
        return self._grad

    @grad.setter
    def grad(self, value: np.ndarray) -> None:
        self._grad, self._grad_is_zero = value, False

    def zero_grad(self) -> None:
        """Make the gradient zero (the zeros are written only if someone reads it first)."""
        self._grad_is_zero = True

    def add_product(self, a: np.ndarray, b: np.ndarray) -> None:
        """grad += a @ b, for a: (out, K), b: (K, in) giving grad's (out, in) shape.

        Right after zero_grad() the product is written straight into grad.
        """
        if self._grad_is_zero:
            np.matmul(a, b, out=self._grad)
            self._grad_is_zero = False
        else:
            self._grad += a @ b

    def __repr__(self) -> str:
        return f"Parameter({self.name or 'unnamed'}, shape={self.data.shape})"


class Module:
    """Base class of every layer and model.

    Subclasses implement ``forward`` and ``backward``; ``module(x)`` calls forward.
    Parameters and sub-modules stored as attributes (or in lists of modules) are
    found automatically by ``parameters()``.
    """

    training: bool = True
    # Arrays that are not trained but must follow the parameters' dtype (e.g. batch norm's
    # running statistics): names of attributes that ``to`` casts too.
    buffers: tuple[str, ...] = ()
    # Set to False on a network's first layer: nobody needs dL/d(input data), and skipping
    # that product saves work (PyTorch skips it too, for inputs that don't require grad).
    input_grad: bool = True

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, x):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")

    def backward(self, grad_out):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement backward(grad_out)")

    # --- parameters and sub-modules -------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}" if name != "layers" else str(i), item

    def children(self) -> list["Module"]:
        return [m for _, m in self.named_children()]

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, Parameter)``, each parameter once, in definition order."""
        seen: set[int] = set()
        for name, value in vars(self).items():
            if isinstance(value, Parameter) and id(value) not in seen:
                seen.add(id(value))
                yield prefix + name, value
        for child_name, child in self.named_children():
            for name, p in child.named_parameters(prefix + child_name + "."):
                if id(p) not in seen:
                    seen.add(id(p))
                    yield name, p

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter gradient to zero (call it before each backward pass)."""
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> "Module":
        """Switch to training behaviour (dropout on, batch-norm batch statistics)."""
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def to(self, dtype) -> "Module":
        """Cast every parameter, its gradient and every buffer to ``dtype``: np.float32 (fast) or np.float64.

        Inputs must then have that dtype too (a layer never casts them silently).
        """
        dtype = check_dtype(self, dtype)
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = p.grad.astype(dtype)
        for module in [self] + self.modules():
            for name in module.buffers:
                setattr(module, name, getattr(module, name).astype(dtype))
        return self

    def modules(self) -> list["Module"]:
        """Every sub-module, depth first (not including this one)."""
        return [m for child in self.children() for m in [child] + child.modules()]

    def param_dtype(self):
        """The dtype of this layer's own parameters (float32 or float64), or None if it has none.

        Layers pass it to ``errors.check_input`` so an input of the other precision is refused.
        """
        for value in vars(self).values():
            if isinstance(value, Parameter):
                return value.data.dtype
        return None

    def eval(self) -> "Module":
        """Switch to evaluation behaviour (dropout off, batch-norm running statistics)."""
        return self.train(False)

    # --- helpers for layer authors ---------------------------------------------------
    def _require_cache(self, *names: str):
        """Return cached attributes, or explain that forward must run before backward."""
        values = []
        for name in names:
            value = getattr(self, name, None)
            if value is None:
                raise BackwardBeforeForwardError(
                    f"{self.short_name()}.backward() was called before forward(). Run the forward pass "
                    f"first (out = layer(x)); backward needs what forward stores."
                )
            values.append(value)
        return values[0] if len(values) == 1 else tuple(values)

    def extra_repr(self) -> str:
        return ""

    def short_name(self) -> str:
        """One-line name for error messages, e.g. 'Linear(in_features=3, ...)'."""
        return f"{type(self).__name__}({self.extra_repr()})"

    def __repr__(self) -> str:
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.named_children()]
        if not lines:
            return self.short_name()
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"


class Sequential(Module):
    """Apply layers one after another; backward runs them in reverse.

    >>> model = Sequential(Linear(2, 16), ReLU(), Linear(16, 1))
    """

    def __init__(self, *layers: Module):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential expects layers (Module instances); argument {i} is {layer!r}. "
                    f"Did you pass a class instead of an instance, e.g. ReLU instead of ReLU()?"
                )
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def backward(self, grad_out):
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out                       # None if the first layer has input_grad = False

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)
