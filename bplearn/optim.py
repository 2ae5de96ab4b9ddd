"""Optimisers: turn gradients into weight updates.

Backprop fills every ``Parameter.grad`` with dL/dθ; an optimiser then moves each
parameter a little *against* its gradient, because that is the direction in which
the loss falls fastest. The training step is always the same four lines:

    optimizer.zero_grad()                  # forget the previous batch's gradients
    loss = loss_fn(model(xb), yb)          # forward
    model.backward(loss_fn.backward())     # backward: fills p.grad
    optimizer.step()                       # update: θ <- θ - (something built from p.grad)

The optimisers differ only in the "something". Each update rule below follows the
pseudo-code in the PyTorch documentation, so ``bplearn.optim.SGD`` and
``torch.optim.SGD`` given the same gradients produce the same weights, step for step.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import NonFiniteError, all_finite, check_number
from .nn.module import Module, Parameter


def _collect_params(params, where: str) -> list[tuple[str, Parameter]]:
    """Turn ``model.parameters()`` or ``model.named_parameters()`` into [(name, Parameter)].

    Names are only used in error messages. A parameter listed twice is kept once,
    so it is not updated twice per step.
    """
    if isinstance(params, Module):
        raise TypeError(
            f"{where} expects the model's parameters, not the model itself. "
            f"Pass model.parameters(), e.g. {where}(model.parameters(), lr=0.1)."
        )
    if isinstance(params, Parameter):
        params = [params]
    items = list(params)
    if not items:
        raise ValueError(
            f"{where} got an empty list of parameters, so there is nothing to train. "
            f"Check that the model has layers with weights (model.parameters() is not empty)."
        )
    named, seen = [], set()
    for i, item in enumerate(items):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Parameter):
            name, p = item                                # from model.named_parameters()
        elif isinstance(item, Parameter):
            name, p = f"{item.name or 'unnamed'} (#{i})", item
        else:
            raise TypeError(
                f"{where}: item {i} of params is {type(item).__name__}, not a bplearn Parameter. "
                f"Pass model.parameters() (or a list of nn.Parameter objects); plain numpy "
                f"arrays have no .grad for the optimiser to read."
            )
        if id(p) not in seen:
            seen.add(id(p))
            named.append((name, p))
    return named


class Optimizer:
    """Base class: holds the parameters and a per-parameter ``state`` dict.

    params: ``model.parameters()`` or ``model.named_parameters()`` (names make error
    messages clearer). Subclasses implement ``_update(p, grad, state)``, the rule
    for one parameter; ``step()`` applies it to every parameter.
    """

    def __init__(self, params, lr: float):
        where = type(self).__name__
        self.named_params = _collect_params(params, where)
        self.params = [p for _, p in self.named_params]
        self.lr = lr
        self.state: list[dict] = [{} for _ in self.params]    # e.g. momentum buffers
        self.steps = 0                                          # t in the formulas

    @property
    def lr(self) -> float:
        """The learning rate; may be changed between steps (e.g. by a slider)."""
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = check_number(type(self).__name__, "lr (learning rate)", value, 0.0, low_inclusive=False)

    def zero_grad(self) -> None:
        """Set every gradient to zero. Gradients accumulate (+=), so call this before each backward."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Update every parameter from its ``.grad`` (all-or-nothing if a grad is NaN/inf)."""
        self._check_finite_grads()
        self.steps += 1
        for p, state in zip(self.params, self.state):
            self._update(p, p.grad, state)

    def _update(self, p: Parameter, grad: np.ndarray, state: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _update(p, grad, state)")

    def _check_finite_grads(self) -> None:
        # Checked for all parameters before any is touched, so a failed step changes nothing.
        for name, p in self.named_params:
            if not all_finite(p.grad):
                raise NonFiniteError(
                    f"{type(self).__name__}.step(): the gradient of parameter '{name}' (shape "
                    f"{p.shape}) contains NaN or inf, so updating would destroy the weights. "
                    f"No parameter was changed. Usual fixes: lower the learning rate "
                    f"(now lr={self.lr:g}), scale the inputs, or call "
                    f"clip_grad_norm(params, max_norm=1.0) before step()."
                )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.params)} parameters, {self.extra_repr()})"

    def extra_repr(self) -> str:
        return f"lr={self.lr:g}"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum and weight decay.

    With g_t = dL/dθ for the current mini-batch, lr = γ, momentum = μ, weight_decay = λ:

        g_t <- g_t + λ θ_{t-1}                       (weight decay = L2 penalty λ/2 ||θ||²)
        b_t  = μ b_{t-1} + g_t,   b_0 = 0             (velocity: a running sum of gradients)
        g_t <- g_t + μ b_t   if nesterov  else  b_t    (Nesterov: look one step ahead)
        θ_t  = θ_{t-1} - γ g_t

    With μ = 0 this is plain gradient descent, θ <- θ - γ g. Momentum lets steps
    build up along directions where the gradient keeps its sign and cancel out
    where it oscillates. (PyTorch sets b_1 = g_1, which is the same as b_0 = 0 here.)
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False):
        super().__init__(params, lr)
        self.momentum = check_number("SGD", "momentum", momentum, 0.0, 1.0)
        self.weight_decay = check_number("SGD", "weight_decay", weight_decay, 0.0)
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0, e.g. SGD(params, lr=0.1, momentum=0.9, nesterov=True).")
        self.nesterov = bool(nesterov)

    def _update(self, p, grad, state):
        if self.weight_decay:
            grad = grad + self.weight_decay * p.data
        if self.momentum:
            b = state.setdefault("momentum_buffer", np.zeros_like(p.data))
            b[...] = self.momentum * b + grad                  # in place: the state keeps it
            grad = grad + self.momentum * b if self.nesterov else b
        p.data -= self.lr * grad                               # θ <- θ - lr g

    def extra_repr(self) -> str:
        return (f"lr={self.lr:g}, momentum={self.momentum:g}, weight_decay={self.weight_decay:g}, "
                f"nesterov={self.nesterov}")


class Adam(Optimizer):
    """Adam: momentum plus a per-weight step size from the recent gradient scale.

    With g_t = dL/dθ, lr = γ, betas = (β1, β2), t = number of steps taken so far:

        g_t <- g_t + λ θ_{t-1}                    (if weight_decay λ > 0; plain L2, not AdamW)
        m_t  = β1 m_{t-1} + (1 - β1) g_t          (average gradient: direction)
        v_t  = β2 v_{t-1} + (1 - β2) g_t²         (average squared gradient: scale)
        m̂_t  = m_t / (1 - β1^t)                   (m_0 = v_0 = 0 bias early averages
        v̂_t  = v_t / (1 - β2^t)                    toward zero; these undo it)
        θ_t  = θ_{t-1} - γ m̂_t / (sqrt(v̂_t) + ε)

    Dividing by sqrt(v̂) makes the step roughly γ in size whatever the gradient's
    scale, which is why one learning rate (1e-3) works for many problems.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (beta1, beta2), e.g. (0.9, 0.999); got {betas!r}.")
        self.betas = (check_number("Adam", "betas[0]", betas[0], 0.0, 1.0),
                      check_number("Adam", "betas[1]", betas[1], 0.0, 1.0))
        self.eps = check_number("Adam", "eps", eps, 0.0)
        self.weight_decay = check_number("Adam", "weight_decay", weight_decay, 0.0)

    def _update(self, p, grad, state):
        beta1, beta2 = self.betas
        t = self.steps
        if self.weight_decay:
            grad = grad + self.weight_decay * p.data
        m = state.setdefault("m", np.zeros_like(p.data))
        v = state.setdefault("v", np.zeros_like(p.data))
        m[...] = beta1 * m + (1 - beta1) * grad
        v[...] = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def extra_repr(self) -> str:
        return f"lr={self.lr:g}, betas={self.betas}, eps={self.eps:g}, weight_decay={self.weight_decay:g}"


class RMSprop(Optimizer):
    """RMSprop: divide each gradient by a running root-mean-square of its recent values.

    With g_t = dL/dθ, lr = γ, smoothing α, momentum μ:

        v_t = α v_{t-1} + (1 - α) g_t²,   v_0 = 0
        s_t = g_t / (sqrt(v_t) + ε)                (gradient in units of its typical size)
        b_t = μ b_{t-1} + s_t,  θ_t = θ_{t-1} - γ b_t     if μ > 0
        θ_t = θ_{t-1} - γ s_t                              otherwise

    Weights whose gradients are large take smaller steps and vice versa. Unlike
    Adam there is no bias correction, so the first steps are larger than γ.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0):
        super().__init__(params, lr)
        self.alpha = check_number("RMSprop", "alpha", alpha, 0.0, 1.0)
        self.eps = check_number("RMSprop", "eps", eps, 0.0)
        self.momentum = check_number("RMSprop", "momentum", momentum, 0.0, 1.0)

    def _update(self, p, grad, state):
        v = state.setdefault("square_avg", np.zeros_like(p.data))
        v[...] = self.alpha * v + (1 - self.alpha) * grad**2
        step = grad / (np.sqrt(v) + self.eps)
        if self.momentum:
            b = state.setdefault("momentum_buffer", np.zeros_like(p.data))
            b[...] = self.momentum * b + step                  # in place: the state keeps it
            step = b
        p.data -= self.lr * step

    def extra_repr(self) -> str:
        return f"lr={self.lr:g}, alpha={self.alpha:g}, eps={self.eps:g}, momentum={self.momentum:g}"


def grad_norm(params) -> float:
    """sqrt(sum over every parameter of sum(grad²)): the one global norm that clipping caps.

    params: Parameters (e.g. model.parameters()) -> a float, summed in float64 so that
    float32 gradients cannot overflow on the way.
    """
    return math.sqrt(sum(float(np.sum(np.square(p.grad, dtype=np.float64))) for p in params))


def clip_grad_norm(params, max_norm: float) -> float:
    """Rescale all gradients together so their global L2 norm is at most ``max_norm``.

    total = sqrt(sum over every parameter of sum(grad²))
    if total > max_norm:  every grad *= max_norm / (total + 1e-6)

    The direction of the full gradient is kept; only its length is capped. This
    stops one huge gradient (an "exploding" one, common in RNNs) from throwing the
    weights far away. Same rule as ``torch.nn.utils.clip_grad_norm_``; call it after
    backward and before ``optimizer.step()``. Returns the norm *before* clipping.
    """
    named = _collect_params(params, "clip_grad_norm")
    max_norm = check_number("clip_grad_norm", "max_norm", max_norm, 0.0, low_inclusive=False)
    total = grad_norm(p for _, p in named)
    if not math.isfinite(total):
        bad = [name for name, p in named if not np.all(np.isfinite(p.grad))]
        what = f"the gradient of parameter '{bad[0]}' contains NaN or inf" if bad else "the gradient norm overflows"
        raise NonFiniteError(
            f"clip_grad_norm: {what}, so it cannot be rescaled. Clipping only helps with large "
            f"finite gradients; this means training already diverged: lower the learning rate "
            f"or scale the inputs."
        )
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for _, p in named:
            p.grad *= scale
    return total
