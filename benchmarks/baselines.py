"""Hand-written baselines for the speed benchmarks, written the way a careful person would.

Every ratio ``make bench`` prints is measured against one of these, in the same run.
They are not the quickest code imaginable (no fusion by hand, no threads), but
what someone who knows numpy writes for one training step: buffers allocated
once and reused through ``out=``, parameters updated in place
(``np.subtract(W, gW, out=W)``), no temporaries that a ``*=`` avoids.

Three cases, each as a builder that returns a callable doing one step:

* ``numpy_mlp_step(layers, X, y, lr)``: one SGD step of a ReLU MLP with softmax
  cross-entropy (mean over the batch) on integer labels; ``layers`` is a list of
  ``(W, b)`` with ``W`` of shape ``(nout, nin)`` as ``nn.Linear`` holds it. The
  step returns the loss *before* its update, so two implementations started
  from the same weights return the same first loss. ``DIGITS`` (64-128-64-10,
  batch 128) and ``WIDE`` (784-1024-1024-10, batch 512), float32, are the
  sizes the benchmarks use; ``init_mlp`` and ``mlp_batch`` make their weights
  and data. ``step(Xb, yb)`` trains on another batch instead (an epoch over a
  data set); ``step()`` on the ``X, y`` it was built with.
* ``numpy_optimizer(rule, params, lr, ...)``: one step of ``"sgd"`` (with
  momentum), ``"adam"``, ``"adamw"``, ``"rmsprop"`` or ``"adagrad"`` (PyTorch's
  rules) on a list of arrays, in place: state arrays made once, one scratch
  buffer per parameter. ``numpy_mlp_step(..., rule="adam")`` trains the MLP
  with it instead of plain SGD.
* ``numpy_per_op(a, b, c)``: ``(a*b + c).tanh().sum()`` and its gradients for
  ``a``, ``b``, ``c`` (16×16 float64 from ``per_op_inputs``): the per-op
  overhead case. Returns ``(loss, ga, gb, gc)``.
* The same three with PyTorch (CPU, eager, as its users write it:
  ``nn.Linear`` + ``nn.CrossEntropyLoss`` + ``optim.SGD`` with
  ``zero_grad()``; ``.grad = None`` in the per-op case) and with JAX
  (``jax.jit`` of the whole step): ``torch_mlp_step``, ``torch_per_op``,
  ``jax_mlp_step``, ``jax_per_op``. Each returns ``None`` when its library is
  not importable (neither is a dependency of autograd_lite; install them into
  your own environment to see their rows).

Builders copy what they are given: every implementation owns its parameters.
The names here are imported by other benchmarks: keep them stable.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

DIGITS = ([64, 128, 64, 10], 128)  # (layer sizes, batch)
WIDE = ([784, 1024, 1024, 10], 512)

Layers = list[tuple[np.ndarray, np.ndarray]]


def init_mlp(sizes: list[int], dtype: Any = np.float32, seed: int = 0) -> Layers:
    """He-initialised ``(W, b)`` per layer, ``W`` of shape ``(nout, nin)``, zero biases."""
    rng = np.random.default_rng(seed)
    return [
        (
            (rng.standard_normal((o, i)) * np.sqrt(2.0 / i)).astype(dtype),
            np.zeros(o, dtype=dtype),
        )
        for i, o in itertools.pairwise(sizes)
    ]


def mlp_batch(
    sizes: list[int], batch: int, dtype: Any = np.float32, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """A batch of standard-normal inputs ``(batch, sizes[0])`` and integer labels ``(batch,)``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], batch)
    return X, y


def per_op_inputs(shape: tuple[int, ...] = (16, 16), seed: int = 2) -> tuple[np.ndarray, ...]:
    """The three float64 arrays ``a, b, c`` of the per-op case."""
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(shape) for _ in range(3))


# ------------------------------------------------------------------ numpy


def numpy_mlp_step(
    layers: Layers, X: np.ndarray, y: np.ndarray, lr: float, rule: str = "sgd"
) -> Callable[..., float]:
    """One SGD step of the MLP in numpy, every buffer allocated once.

    Forward ``z = h @ W.T + b`` (``matmul(out=)`` then ``+=``), ReLU into its own
    buffer, a stable log-softmax, then the backward written out:
    ``dz = (softmax − onehot) / m``, ``gW = dz.T @ h``, ``gb = Σ dz``,
    ``dh = dz @ W`` masked by ``z ≥ 0`` (ReLU's derivative at 0 is 1, as in the
    lecture and the engine), and the update ``W −= lr·gW`` in place.

    The step trains on ``(X, y)``; called as ``step(Xb, yb)`` it trains on that
    batch instead (buffers are made once per batch size). It has ``.params``
    (the arrays it updates).
    """
    params = [(W.copy(), b.copy()) for W, b in layers]
    n = len(params)
    gW = [np.empty_like(W) for W, _ in params]
    gb = [np.empty_like(b) for _, b in params]
    buffers: dict[int, tuple] = {}
    flat = [a for pair in params for a in pair]
    grads = [g for pair in zip(gW, gb) for g in pair]
    update = None if rule == "sgd" else numpy_optimizer(rule, flat, lr)

    def make_buffers(m: int, dtype: Any) -> tuple:
        z = [np.empty((m, W.shape[0]), dtype) for W, _ in params]  # pre-activations
        h = [np.empty((m, W.shape[0]), dtype) for W, _ in params[:-1]]  # hidden outputs
        dz = [np.empty((m, W.shape[0]), dtype) for W, _ in params]
        mask = [np.empty((m, W.shape[0]), bool) for W, _ in params[:-1]]
        extra = np.arange(m), np.empty((m, 1), dtype), np.empty((m, 1), dtype)
        return z, h, dz, mask, *extra

    def step(xb: np.ndarray = X, yb: np.ndarray = y) -> float:
        m = len(xb)
        bufs = buffers.get(m)
        if bufs is None:
            bufs = buffers[m] = make_buffers(m, xb.dtype)
        z, hidden, dz, mask, rows, zmax, total = bufs
        h = [xb, *hidden]
        for i, (W, b) in enumerate(params):
            out = z[i]
            np.matmul(h[i], W.T, out=out)
            out += b
            if i < n - 1:
                np.maximum(out, 0, out=h[i + 1])
        logits = z[-1]
        np.max(logits, axis=1, keepdims=True, out=zmax)
        logits -= zmax  # shifted in place: the logits are not needed again
        p = dz[-1]
        np.exp(logits, out=p)
        np.sum(p, axis=1, keepdims=True, out=total)
        p /= total  # softmax
        np.log(total, out=total)
        loss = (float(total.sum()) - float(logits[rows, yb].sum())) / m
        p[rows, yb] -= 1
        p *= 1.0 / m
        for i in range(n - 1, -1, -1):
            W, b = params[i]
            d = dz[i]
            np.matmul(d.T, h[i], out=gW[i])
            np.sum(d, axis=0, out=gb[i])
            if i:
                back = dz[i - 1]
                np.matmul(d, W, out=back)  # before W changes
                np.greater_equal(z[i - 1], 0, out=mask[i - 1])
                back *= mask[i - 1]
            if update is None:
                gW[i] *= lr
                W -= gW[i]
                gb[i] *= lr
                b -= gb[i]
        if update is not None:
            update(grads)
        return loss

    step.params = params  # type: ignore[attr-defined]
    return step


def numpy_optimizer(
    rule: str,
    params: list[np.ndarray],
    lr: float,
    momentum: float = 0.9,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float | None = None,
    alpha: float = 0.99,
    weight_decay: float = 0.01,
    amsgrad: bool = False,
    centered: bool = False,
) -> Callable[[list[np.ndarray]], None]:
    """``step(grads)``: one step of PyTorch's rule ``rule`` on ``params``, in place.

    ``"sgd"`` (with ``momentum``; the first step's buffer is the gradient),
    ``"adam"``, ``"adamw"`` (decoupled ``weight_decay``; ``amsgrad``: divide by the
    running maximum of ``v``), ``"rmsprop"`` (no momentum; ``centered``: by
    ``√(v − ḡ²)``, ``ḡ`` the running mean of ``g``), ``"adagrad"``; ``eps`` defaults
    as in PyTorch (1e-10 for Adagrad, else 1e-8). State arrays are made once and
    updated in place, one scratch buffer per parameter takes every temporary. Adam's
    ``m̂/(√v̂ + eps)`` is computed as ``m·(√c2/c1)/(√v + eps·√c2)`` (``c1 = 1−β1ᵗ``,
    ``c2 = 1−β2ᵗ``): the same number, one pass fewer. The arrays are updated as given
    (not copied).
    """
    b1, b2 = betas
    if eps is None:
        eps = 1e-10 if rule == "adagrad" else 1e-8
    first = [np.zeros_like(p) for p in params]  # m, momentum buffer, square_avg or sum
    second = [np.zeros_like(p) for p in params] if rule in ("adam", "adamw") else first
    scratch = [np.empty_like(p) for p in params]
    # AMSGrad's running maximum of v, or centered RMSprop's running mean of g
    third = [np.zeros_like(p) for p in params] if amsgrad or centered else scratch
    items = list(zip(params, first, second, scratch, third))
    t = [0]

    def root(v: np.ndarray, g: np.ndarray, beta: float, eps: float, out: np.ndarray) -> np.ndarray:
        """``v ← beta·v + (1−beta)·g²`` (``v += g²`` for beta 1), then ``√v + eps`` in ``out``."""
        np.multiply(g, g, out=out)
        if beta != 1:
            v *= beta
            out *= 1 - beta
        v += out
        np.sqrt(v, out=out)
        out += eps
        return out

    def step(grads: list[np.ndarray]) -> None:
        t[0] += 1
        c2 = math.sqrt(1 - b2 ** t[0])
        size, tiny = lr * c2 / (1 - b1 ** t[0]), eps * c2
        for (w, m, v, buf, top), g in zip(items, grads):
            if rule == "sgd":
                if t[0] == 1:
                    m[...] = g
                else:
                    m *= momentum
                    m += g
                np.multiply(m, lr, out=buf)
            elif rule in ("adam", "adamw"):
                m *= b1
                np.multiply(g, 1 - b1, out=buf)
                m += buf
                if amsgrad:
                    root(v, g, b2, tiny, buf)  # (√v + eps in buf: not needed)
                    np.maximum(top, v, out=top)
                    np.sqrt(top, out=buf)
                    buf += tiny
                    np.divide(m, buf, out=buf)
                else:
                    np.divide(m, root(v, g, b2, tiny, buf), out=buf)
                buf *= size
                if rule == "adamw":
                    w *= 1 - lr * weight_decay
            elif centered:  # RMSprop: √(v − ḡ²) + eps
                np.multiply(g, g, out=buf)
                m *= alpha
                buf *= 1 - alpha
                m += buf
                top *= alpha
                np.multiply(g, 1 - alpha, out=buf)
                top += buf
                np.multiply(top, top, out=buf)
                np.subtract(m, buf, out=buf)
                np.sqrt(buf, out=buf)
                buf += eps
                np.divide(g, buf, out=buf)
                buf *= lr
            else:  # RMSprop's square average, or Adagrad's sum
                np.divide(g, root(m, g, alpha if rule == "rmsprop" else 1.0, eps, buf), out=buf)
                buf *= lr
            w -= buf

    step.state = (first, second)  # type: ignore[attr-defined]
    return step


def numpy_per_op(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> Callable[[], tuple]:
    """``(a*b + c).tanh().sum()`` and its three gradients, into buffers made once.

    ``t = tanh(a·b + c)``; ``gc = 1 − t²``, ``ga = gc·b``, ``gb = gc·a``.
    """
    a, b, c = a.copy(), b.copy(), c.copy()
    t, gc, ga, gb = (np.empty_like(a) for _ in range(4))
    multiply, add, tanh, subtract = np.multiply, np.add, np.tanh, np.subtract

    def step() -> tuple:
        multiply(a, b, out=t)
        add(t, c, out=t)
        tanh(t, out=t)
        loss = t.sum()
        multiply(t, t, out=gc)
        subtract(1.0, gc, out=gc)
        multiply(gc, b, out=ga)
        multiply(gc, a, out=gb)
        return loss, ga, gb, gc

    return step


# ------------------------------------------------------------------ PyTorch


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


def torch_mlp_step(
    layers: Layers, X: np.ndarray, y: np.ndarray, lr: float, rule: str = "sgd"
) -> Callable[..., float] | None:
    """The MLP step as a PyTorch user writes it (eager, CPU); None without torch.

    ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU``, ``nn.CrossEntropyLoss``,
    ``optim.SGD`` (``optim.Adam`` with ``rule="adam"``); each step
    ``opt.zero_grad()``, forward, ``backward()``, ``opt.step()``. Called as
    ``step(Xb, yb)`` it trains on that batch. The returned callable has ``.model``.
    """
    torch = _torch()
    if torch is None:
        return None
    from torch import nn

    mods: list[Any] = []
    for i, (W, b) in enumerate(layers):
        lin = nn.Linear(W.shape[1], W.shape[0], dtype=torch.from_numpy(W).dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        mods.append(lin)
        if i < len(layers) - 1:
            mods.append(nn.ReLU())
    model = nn.Sequential(*mods)
    loss_fn = nn.CrossEntropyLoss()
    opt = (torch.optim.Adam if rule == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
    xt = torch.from_numpy(X.copy())
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))

    def step(xb: Any = None, yb: Any = None) -> float:
        if xb is not None:  # another batch, given as numpy arrays (shared, not copied)
            xt_, yt_ = torch.from_numpy(xb), torch.from_numpy(yb)
        else:
            xt_, yt_ = xt, yt
        opt.zero_grad()
        loss = loss_fn(model(xt_), yt_)
        loss.backward()
        opt.step()
        return loss.item()

    step.model = model  # type: ignore[attr-defined]
    return step


def torch_adam(
    params: list[np.ndarray], grads: list[np.ndarray], lr: float
) -> Callable[[], None] | None:
    """``step()``: ``torch.optim.Adam`` (its defaults) on copies of ``params`` whose ``.grad``
    are copies of ``grads`` (fixed); None without torch. ``.tensors`` are the parameters.
    """
    torch = _torch()
    if torch is None:
        return None
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    for t, g in zip(tensors, grads):
        t.grad = torch.tensor(g)
    opt = torch.optim.Adam(tensors, lr=lr)

    def step() -> None:
        opt.step()

    step.tensors = tensors  # type: ignore[attr-defined]
    return step


def torch_per_op(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> Callable[[], Any] | None:
    """The per-op case in eager PyTorch, gradients reset by ``.grad = None``; None without torch."""
    torch = _torch()
    if torch is None:
        return None
    ta, tb, tc = (torch.tensor(v, requires_grad=True) for v in (a, b, c))

    def step() -> Any:
        ta.grad = tb.grad = tc.grad = None
        out = (ta * tb + tc).tanh().sum()
        out.backward()
        return out

    step.tensors = (ta, tb, tc)  # type: ignore[attr-defined]
    return step


# ------------------------------------------------------------------ JAX


def _jax() -> Any:
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)  # the per-op case is float64
    return jax


def jax_mlp_step(
    layers: Layers, X: np.ndarray, y: np.ndarray, lr: float
) -> Callable[..., float] | None:
    """The MLP step as one ``jax.jit``-compiled function (loss, grads, SGD); None without JAX.

    Called as ``step(Xb, yb)`` it trains on that batch. The returned callable has
    ``.state`` (a one-item list holding the parameters).
    """
    jax = _jax()
    if jax is None:
        return None
    import jax.numpy as jnp

    def loss_fn(params: list, xb: Any, yb: Any) -> Any:
        h = xb
        for i, (W, b) in enumerate(params):
            h = h @ W.T + b
            if i < len(params) - 1:
                h = jnp.maximum(h, 0)
        logp = jax.nn.log_softmax(h, axis=1)
        return -jnp.take_along_axis(logp, yb[:, None], axis=1).mean()

    @jax.jit
    def jstep(params: list, xb: Any, yb: Any) -> tuple:
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        new = [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(params, grads)]
        return new, loss

    state = [[(jnp.asarray(W), jnp.asarray(b)) for W, b in layers]]
    xj, yj = jnp.asarray(X), jnp.asarray(np.asarray(y, dtype=np.int32))

    def step(xb: Any = None, yb: Any = None) -> float:
        if xb is None:
            state[0], loss = jstep(state[0], xj, yj)
        else:  # another batch (a new batch size compiles the step again, once)
            state[0], loss = jstep(state[0], jnp.asarray(xb), jnp.asarray(yb))
        return float(loss)  # waits for the result

    step.state = state  # type: ignore[attr-defined]
    return step


def jax_per_op(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> Callable[[], Any] | None:
    """The per-op case as ``jit(value_and_grad(f, argnums=(0, 1, 2)))``; None without JAX."""
    jax = _jax()
    if jax is None:
        return None
    import jax.numpy as jnp

    fn = jax.jit(jax.value_and_grad(lambda x, w, v: jnp.tanh(x * w + v).sum(), argnums=(0, 1, 2)))
    ja, jb, jc = (jnp.asarray(v) for v in (a, b, c))

    def step() -> Any:
        return jax.block_until_ready(fn(ja, jb, jc))

    return step
