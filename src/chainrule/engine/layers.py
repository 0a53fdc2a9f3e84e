"""A fully connected layer ``l``: the lecture's matrix multiply followed by a nonlinearity.

Forward (lecture, "the magical stuff: layers")::

    e_j^(l) = sum_k w_jk^(l) h_k^(l-1)          excitation, with h_{n_in+1}^(l-1) = 1
    h_j^(l) = g^(l)(e_j^(l))                    activation

Backward (lecture, "back-propagation")::

    dL/de_j^(l)     = dL/dh_j^(l) g^(l)'(e_j^(l))
    dL/dw_jk^(l)    = dL/de_j^(l) h_k^(l-1)
    dL/dh_k^(l-1)   = sum_j w_jk^(l) dL/de_j^(l)

``W`` has shape ``(n_out, n_in + 1)``: its last column is the weight on the constant input 1 (the
bias). Batches are rows: ``h^(l-1)`` has shape ``(n, n_in)``, ``e`` and ``h`` have shape
``(n, n_out)``.

The constant 1, as the lecture has it: a layer writes its ``h`` into the first columns of
``h_augmented``, an ``(n, n_out + 1)`` array whose last column is 1, and the next layer takes that
array as its input. Its excitation is then one matrix product with the whole ``W``, and ``dL/dW``,
bias column included, another: no separate pass adds the bias or sums ``dL/de`` over the batch
(on small layers those passes cost as much as the products). A plain ``(n, n_in)`` input (the
data, unless the caller augmented it) takes the views ``W[:, :-1]`` and ``W[:, -1]`` instead.
Both give the same numbers up to rounding.

Memory order. A layer's batch buffers (``e``, ``h_augmented``, ``dL/dh``, ``dL/de``) are
column-major: each neuron's values over the batch are contiguous, the lecture's column vectors
``h^(l)`` laid side by side. ``h`` is then a contiguous block of ``h_augmented`` (a row-major
``h_augmented[:, :-1]`` would be strided, and numpy's elementwise loops buffer strided operands,
up to twice as slow), and OpenBLAS computes these products at least as fast in this
orientation, faster for some shapes (batch 128 through 256 x 256 weights, 2 threads: 124 us
against 143-172 us). ``W`` is column-major too, so its bias column is a contiguous vector.
Prediction (:meth:`Dense.infer`), which keeps no buffers, multiplies row-major arrays instead,
faster there. Either order gives the same numbers up to rounding; :func:`product` writes a
product into either.

Gradient descent inside the product. Trained with plain SGD (see ``Trainer``), a layer of at
least :data:`FOLD_MIN_WEIGHTS` weights takes the step ``w_jk <- w_jk - eta dL/dw_jk`` in the
BLAS call that computes ``dL/dW`` (``W <- W - eta dL/de^T h_prev``, see
:mod:`chainrule.engine.blas`): the same numbers up to rounding, without writing ``dL/dW`` and
reading it back. ``dL/dh^(l-1)`` is computed before, with the weights of the forward pass.

All intermediate arrays live in buffers reused from step to step (one set per batch size seen
recently), so the steady state of training allocates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chainrule.engine import blas
from chainrule.engine.activations import Activation, get_activation

Array = NDArray[np.floating]

FOLD_MIN_WEIGHTS = 32_768
"""A layer with at least this many weights takes a gradient step inside the product that gives its
``dL/dW`` (see :meth:`Dense.backward`); a smaller one computes ``dL/dW``, then subtracts
``eta dL/dW``. Below it the BLAS call's overhead (about 8 us) costs more than the passes over
the weights it saves; 784-256-256-10's output layer (2,570 weights) is twice as fast the plain
way."""

_KEPT_BATCH_SIZES = 3
"""Buffers are kept for this many batch sizes (the minibatch, the epoch's last, one more)."""


@dataclass
class _Buffers:
    """Arrays for one batch size, reused by every forward and backward pass of that size."""

    e: Array
    h_augmented: Array  # [h, 1]: the activations and the next layer's constant input 1
    h: Array  # the view h_augmented[:, :-1]
    dL_dh: Array
    dL_de: Array
    g_prime: Array
    dL_dh_prev: Array

    @classmethod
    def allocate(cls, n: int, n_in: int, n_out: int, dtype: np.dtype[np.floating]) -> _Buffers:
        def empty(*shape: int) -> Array:
            return np.empty(shape, dtype=dtype, order="F")  # see the module's docstring

        h_augmented = with_constant_1(empty(n, n_out + 1))
        return cls(
            e=empty(n, n_out),
            h_augmented=h_augmented,
            h=h_augmented[:, :-1],
            dL_dh=empty(n, n_out),
            dL_de=empty(n, n_out),
            g_prime=empty(n, n_out),
            dL_dh_prev=empty(n, n_in),
        )


def product(a: Array, b: Array, out: Array) -> Array:
    """The matrix product ``a @ b`` into ``out`` of either memory order; returns ``out``.

    BLAS writes a row-major result; a column-major ``out`` is the row-major ``out.T``, filled as
    ``b^T a^T``. ``np.dot``, not ``matmul``: the same BLAS call with a microsecond less
    overhead, which is a tenth of a small network's step.
    """
    if out.flags.c_contiguous:
        return np.dot(a, b, out=out)
    np.dot(b.T, a.T, out=out.T)
    return out


def with_constant_1(h_augmented: Array) -> Array:
    """Set the last column of ``h_augmented`` to the constant input 1; return it."""
    h_augmented[:, -1] = 1
    return h_augmented


class Dense:
    """A fully connected layer with weights ``W^(l)`` of shape ``(n_out, n_in + 1)``.

    After :meth:`forward` the layer keeps ``h_prev`` (= h^(l-1)), ``e``, ``h`` and ``h_augmented``
    (``h`` with a last column of 1, the next layer's input); after
    :meth:`backward` it keeps ``dL_dh``, ``dL_de`` and ``dL_dW``. These are views of reused
    buffers: copy them to keep them past the next pass (``trace`` does).
    """

    def __init__(self, W: Array, activation: str | Activation) -> None:
        self.activation = get_activation(activation)
        self.W = W
        self._buffers: dict[int, _Buffers] = {}
        self.h_prev: Array | None = None
        self.e: Array | None = None
        self.h: Array | None = None
        self.h_augmented: Array | None = None
        self._h_prev_augmented: Array | None = None  # the input, when it carried its 1
        self.dL_dh: Array | None = None
        self.dL_de: Array | None = None

    @property
    def W(self) -> Array:
        """``W^(l)``, shape ``(n_out, n_in + 1)``; its last column is the bias weight.

        Stored column-major and in the layer's dtype: assigning a row-major array, or one of
        another dtype, stores a column-major copy of it in the dtype the layer was built with
        (the first assignment sets it). A network's layers, its weight vector and its trainer's
        buffers share one dtype; a float64 matrix given to a float32 layer must not turn the
        network into a float64 one (nor leave one layer float64 until the next step).
        """
        return self._W

    @W.setter
    def W(self, W: Array) -> None:
        if W.ndim != 2 or W.shape[1] < 2:
            raise ValueError(f"W must have shape (n_out, n_in + 1) with n_in >= 1; got {W.shape}")
        dtype = self._W.dtype if hasattr(self, "_W") else W.dtype
        W = np.asfortranarray(W, dtype=dtype)  # column-major (a copy only if W is not already)
        self.store_in(W, np.zeros_like(W))

    def store_in(self, W: Array, dL_dW: Array) -> None:
        """Compute with ``W`` and write ``dL/dW`` into ``dL_dW``: column-major arrays of shape
        ``(n_out, n_in + 1)``, used as they are (a network passes views of its weight vector)."""
        assert W.flags.f_contiguous and dL_dW.flags.f_contiguous and W.shape == dL_dW.shape
        self._W, self._dL_dW = W, dL_dW
        self._buffers = {}
        # The views every pass uses, made once. Column-major storage makes each of them
        # contiguous, W_h^T and dL/dW_h^T row-major: what np.dot's out= and BLAS want.
        self._W_T = self._W.T  # w_kj for the inputs h_k^(l-1) and the constant 1
        self._W_h = self._W[:, :-1]  # w_jk for the inputs h_k^(l-1) alone
        self._W_h_T = self._W_h.T
        self._w_bias = self._W[:, -1]  # w_j,(n_in+1), the weight on the constant 1
        self._dL_dW_T = self._dL_dW.T
        self._dL_dW_h_T = self._dL_dW[:, :-1].T
        self._dL_dW_bias = self._dL_dW[:, -1]

    @property
    def dL_dW(self) -> Array:
        """``dL/dW^(l)`` from the last :meth:`backward`, shaped like ``W`` (a reused buffer)."""
        return self._dL_dW

    @property
    def n_in(self) -> int:
        """Number of inputs ``h_k^(l-1)``, not counting the constant 1."""
        return int(self._W.shape[1] - 1)

    @property
    def n_out(self) -> int:
        """Number of neurons ``j`` in this layer."""
        return int(self._W.shape[0])

    def buffers_for(self, n: int) -> _Buffers:
        """The reused arrays for batches of ``n`` tokens (allocated on first use)."""
        buffers = self._buffers.get(n)
        if buffers is None:
            if len(self._buffers) >= _KEPT_BATCH_SIZES:
                del self._buffers[next(iter(self._buffers))]  # forget the oldest size
            buffers = _Buffers.allocate(n, self.n_in, self.n_out, self._W.dtype)
            self._buffers[n] = buffers
        return buffers

    def release_buffers(self) -> None:
        """Drop the reused buffers (after a large prediction batch, say)."""
        self._buffers.clear()

    def forward(self, h_prev: Array, *, augmented: bool = False) -> Array:
        """Compute ``e^(l)`` and ``h^(l)`` for a batch ``h_prev`` of shape ``(n, n_in)``, into
        the reused buffers, and keep them (and ``h_prev``) for :meth:`backward`. Returns ``h``.

        ``augmented=True``: ``h_prev`` is ``[h^(l-1), 1]``, shape ``(n, n_in + 1)`` with a last
        column of ones (the previous layer's ``h_augmented``, say), and the bias weight enters
        the product like every other weight.
        """
        buffers = self._buffers.get(len(h_prev)) or self.buffers_for(len(h_prev))
        self._excite(h_prev, buffers.e, augmented)
        self.activation.g(buffers.e, out=buffers.h)  # h_j = g(e_j)
        self._h_prev_augmented = h_prev if augmented else None
        self.h_prev = h_prev[:, :-1] if augmented else h_prev
        self.e, self.h, self.h_augmented = buffers.e, buffers.h, buffers.h_augmented
        return buffers.h

    def infer(self, h_prev: Array) -> Array:
        """``h^(l)`` for a batch ``h_prev`` of shape ``(n, n_in)``, in new arrays, keeping nothing.

        For prediction: several threads may call it at once on one layer (the buffers of
        :meth:`forward` are shared), and a large batch leaves no buffers behind. Row-major
        arrays and the bias added on its own: for prediction that is faster than training's
        column-major ``[h, 1]`` (by about 10% at batch 1 and at batch 1024 through
        784-256-256-10, measured side by side). The numbers are the same up to rounding.
        """
        e = self._excite(h_prev, np.empty((len(h_prev), self.n_out), dtype=self._W.dtype), False)
        return self.activation.g(e, out=np.empty_like(e))

    def _excite(self, h_prev: Array, e: Array, augmented: bool) -> Array:
        """Fill ``e`` with the excitations of the batch ``h_prev``; return it."""
        if augmented:
            # e_j = sum_k w_jk h_k, k = 1 .. n_in + 1, where h_(n_in+1) = 1: one product
            return product(h_prev, self._W_T, out=e)
        # the same sum, with the weight on the constant 1 added on its own
        product(h_prev, self._W_h_T, out=e)
        e += self._w_bias
        return e

    def backward(
        self,
        dL_dh: Array | None = None,
        *,
        dL_de: Array | None = None,
        need_dL_dh_prev: bool = True,
        learning_rate: float | None = None,
    ) -> Array | None:
        """Back-propagate through this layer; fills ``dL_dW`` and returns ``dL/dh^(l-1)``.

        Give ``dL_dh`` (shape ``(n, n_out)``), or ``dL_de`` directly when the loss supplies it
        (softmax + cross-entropy). ``need_dL_dh_prev=False`` skips ``dL/dh^(0)`` for the first
        layer, which nothing uses.

        ``learning_rate`` ``eta``: take the gradient-descent step ``w_jk <- w_jk - eta dL/dw_jk``
        here rather than leave ``dL/dW`` for an optimizer: inside the product that computes
        ``dL/dW`` (one BLAS call, see :mod:`chainrule.engine.blas`) when
        :attr:`folds_descent`, else after it. ``dL_dW`` then holds no gradient (at most
        ``eta dL/dW``). ``dL/dh^(l-1)`` is computed first, with the weights of the forward pass.
        """
        assert self.h_prev is not None and self.e is not None and self.h is not None
        buffers = self._buffers.get(len(self.e)) or self.buffers_for(len(self.e))
        if dL_de is None:
            assert dL_dh is not None
            # dL/de_j = dL/dh_j g'(e_j)
            dL_de = self.activation.chain(dL_dh, self.e, self.h, buffers.dL_de, buffers.g_prime)
        self.dL_dh, self.dL_de = dL_dh, dL_de
        dL_dh_prev = None
        if need_dL_dh_prev:
            # dL/dh_k^(l-1) = sum_j w_jk dL/de_j (the bias column has no h_k to flow back to)
            dL_dh_prev = product(dL_de, self._W_h, out=buffers.dL_dh_prev)
        if learning_rate is None:
            self._store_dL_dW(dL_de, self.h_prev)
        else:
            self._descend(dL_de, self.h_prev, learning_rate)
        return dL_dh_prev

    def _store_dL_dW(self, dL_de: Array, h_prev: Array) -> None:
        # dL/dw_jk = sum over the batch of dL/de_j h_k, written transposed, (h_prev^T dL/de)_kj,
        # into the row-major dL_dW^T; the bias column's h_k is the constant 1
        if self._h_prev_augmented is not None:
            product(self._h_prev_augmented.T, dL_de, out=self._dL_dW_T)  # all n_in + 1 columns
        else:
            product(h_prev.T, dL_de, out=self._dL_dW_h_T)
            np.add.reduce(dL_de, axis=0, out=self._dL_dW_bias)  # h_k = 1: sum of dL/de_j

    @property
    def folds_descent(self) -> bool:
        """Whether :meth:`backward` with a ``learning_rate`` takes the step inside the ``dL/dW``
        product: for a layer of at least :data:`FOLD_MIN_WEIGHTS` weights, where numpy's BLAS
        was found."""
        return self._W.size >= FOLD_MIN_WEIGHTS and blas.in_place()

    def _descend(self, dL_de: Array, h_prev: Array, eta: float) -> None:
        # BLAS multiplies matrices of the weights' dtype only: an input of another (float32 data
        # handed to a float64 network's Trainer.step) takes numpy's two passes, which promote it
        # as the forward pass did, rather than fail where the gradient path would not.
        if not self.folds_descent or not (h_prev.dtype == dL_de.dtype == self._W.dtype):
            self._store_dL_dW(dL_de, h_prev)
            self._dL_dW *= eta
            self._W -= self._dL_dW  # w <- w - eta dL/dw
            return
        # w_jk <- w_jk - eta dL/dw_jk, with dL/dw_jk = sum over the batch of dL/de_j h_k:
        # BLAS adds -eta dL/de^T h_prev to W as it computes the product
        if self._h_prev_augmented is not None:
            blas.add_product(self._W, dL_de.T, self._h_prev_augmented, -eta)  # with the bias
        else:
            blas.add_product(self._W_h, dL_de.T, h_prev, -eta)
            self._w_bias -= eta * np.add.reduce(dL_de, axis=0)  # h_k = 1: sum of dL/de_j

    def __getstate__(self) -> dict[str, Any]:
        """What a copy or a pickle keeps: ``W`` and the activation. The views of ``W``, the
        buffers and the last pass's arrays are made anew: copied one by one, views of ``W`` would
        become arrays of their own that training no longer reaches."""
        return {"W": self._W, "activation": self.activation}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(np.array(state["W"], order="F"), state["activation"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"Dense({self.n_in} -> {self.n_out}, {self.activation.name}, {self._W.dtype})"
