"""A fully connected layer ``l``: the lecture's matrix multiply followed by a nonlinearity.

Forward (lecture, "the magical stuff: layers")::

    e_j^(l) = sum_k w_jk^(l) h_k^(l-1)          excitation, with h_{n_in+1}^(l-1) = 1
    h_j^(l) = g^(l)(e_j^(l))                    activation

Backward (lecture, "back-propagation")::

    dL/de_j^(l)     = dL/dh_j^(l) g^(l)'(e_j^(l))
    dL/dw_jk^(l)    = dL/de_j^(l) h_k^(l-1)
    dL/dh_k^(l-1)   = sum_j w_jk^(l) dL/de_j^(l)

``W`` has shape ``(n_out, n_in + 1)``: its last column is the weight on the constant input 1 (the
bias). The code never appends that 1 to the data; it works with the views ``W[:, :-1]`` (the
weights on ``h^(l-1)``) and ``W[:, -1]`` (the weight on 1). Batches are rows: ``h^(l-1)`` has shape
``(n, n_in)``, ``e`` and ``h`` have shape ``(n, n_out)``.

A layer stores ``W`` column-major (Fortran order), so every column is contiguous. Matrix
products would take the views in either layout (BLAS reads a strided matrix at full speed), but
the bias column is used alone, by ``e += W[:, -1]`` and by the sum that fills ``dL_dW[:, -1]``,
and numpy's elementwise loops run several times slower over a strided vector (ten times at 2048
units). Any layout computes the same numbers.

All intermediate arrays live in buffers reused from step to step (one set per batch size seen
recently), so the steady state of training allocates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chainrule.engine.activations import Activation, get_activation

Array = NDArray[np.floating]

_KEPT_BATCH_SIZES = 3
"""Buffers are kept for this many batch sizes (the minibatch, the epoch's last, one more)."""


@dataclass
class _Buffers:
    """Arrays for one batch size, reused by every forward and backward pass of that size."""

    e: Array
    h: Array
    dL_dh: Array
    dL_de: Array
    g_prime: Array
    dL_dh_prev: Array

    @classmethod
    def allocate(cls, n: int, n_in: int, n_out: int, dtype: np.dtype[np.floating]) -> _Buffers:
        def empty(*shape: int) -> Array:
            return np.empty(shape, dtype=dtype)

        return cls(
            e=empty(n, n_out),
            h=empty(n, n_out),
            dL_dh=empty(n, n_out),
            dL_de=empty(n, n_out),
            g_prime=empty(n, n_out),
            dL_dh_prev=empty(n, n_in),
        )


class Dense:
    """A fully connected layer with weights ``W^(l)`` of shape ``(n_out, n_in + 1)``.

    After :meth:`forward` the layer keeps ``h_prev`` (= h^(l-1)), ``e`` and ``h``; after
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
        self.dL_dh: Array | None = None
        self.dL_de: Array | None = None

    @property
    def W(self) -> Array:
        """``W^(l)``, shape ``(n_out, n_in + 1)``; its last column is the bias weight.

        Stored column-major: assigning a row-major array stores a column-major copy of it.
        """
        return self._W

    @W.setter
    def W(self, W: Array) -> None:
        if W.ndim != 2 or W.shape[1] < 2:
            raise ValueError(f"W must have shape (n_out, n_in + 1) with n_in >= 1; got {W.shape}")
        W = np.asfortranarray(W)  # column-major (a copy only if W is not already)
        self.store_in(W, np.zeros_like(W))

    def store_in(self, W: Array, dL_dW: Array) -> None:
        """Compute with ``W`` and write ``dL/dW`` into ``dL_dW``: column-major arrays of shape
        ``(n_out, n_in + 1)``, used as they are (a network passes views of its weight vector)."""
        assert W.flags.f_contiguous and dL_dW.flags.f_contiguous and W.shape == dL_dW.shape
        self._W, self._dL_dW = W, dL_dW
        self._buffers = {}
        # The views every pass uses, made once. Column-major storage makes each of them
        # contiguous, W_h^T and dL/dW_h^T row-major: what np.dot's out= and BLAS want.
        self._W_h = self._W[:, :-1]  # w_jk for the inputs h_k^(l-1)
        self._W_h_T = self._W_h.T
        self._w_bias = self._W[:, -1]  # w_j,(n_in+1), the weight on the constant 1
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

    def forward(self, h_prev: Array) -> Array:
        """Compute ``e^(l)`` and ``h^(l)`` for a batch ``h_prev`` of shape ``(n, n_in)``, into
        the reused buffers, and keep them (and ``h_prev``) for :meth:`backward`."""
        buffers = self._buffers.get(len(h_prev)) or self.buffers_for(len(h_prev))
        h = self._excite_and_activate(h_prev, buffers.e, buffers.h)
        self.h_prev, self.e, self.h = h_prev, buffers.e, h
        return h

    def infer(self, h_prev: Array) -> Array:
        """``h^(l)`` for a batch ``h_prev``, in new arrays, keeping nothing.

        For prediction: several threads may call it at once on one layer (the buffers of
        :meth:`forward` are shared), and a large batch leaves no buffers behind.
        """
        e = np.empty((len(h_prev), self.n_out), dtype=self._W.dtype)
        return self._excite_and_activate(h_prev, e, np.empty_like(e))

    def _excite_and_activate(self, h_prev: Array, e: Array, h: Array) -> Array:
        """Fill ``e`` with the excitations and ``h`` with the activations; return ``h``."""
        # e_j = sum_k w_jk h_k over the inputs, plus w_j,(n_in+1) times the constant 1.
        # np.dot, not matmul: the same BLAS call with a microsecond less overhead, which is a
        # tenth of a small network's step.
        np.dot(h_prev, self._W_h_T, out=e)
        e += self._w_bias
        return self.activation.g(e, out=h)  # h_j = g(e_j)

    def backward(
        self,
        dL_dh: Array | None = None,
        *,
        dL_de: Array | None = None,
        need_dL_dh_prev: bool = True,
    ) -> Array | None:
        """Back-propagate through this layer; fills ``dL_dW`` and returns ``dL/dh^(l-1)``.

        Give ``dL_dh`` (shape ``(n, n_out)``), or ``dL_de`` directly when the loss supplies it
        (softmax + cross-entropy). ``need_dL_dh_prev=False`` skips ``dL/dh^(0)`` for the first
        layer, which nothing uses.
        """
        assert self.h_prev is not None and self.e is not None and self.h is not None
        buffers = self._buffers.get(len(self.e)) or self.buffers_for(len(self.e))
        if dL_de is None:
            assert dL_dh is not None
            # dL/de_j = dL/dh_j g'(e_j)
            dL_de = self.activation.chain(dL_dh, self.e, self.h, buffers.dL_de, buffers.g_prime)
        self.dL_dh, self.dL_de = dL_dh, dL_de
        # dL/dw_jk = sum over the batch of dL/de_j h_k (written transposed, (h_prev^T dL/de)_kj,
        # into the row-major view dL_dW[:, :-1].T); the bias column sees h_k = 1
        np.dot(self.h_prev.T, dL_de, out=self._dL_dW_h_T)
        np.add.reduce(dL_de, axis=0, out=self._dL_dW_bias)
        if not need_dL_dh_prev:
            return None
        # dL/dh_k^(l-1) = sum_j w_jk dL/de_j (the bias column has no h_k to flow back to)
        return np.dot(dL_de, self._W_h, out=buffers.dL_dh_prev)

    def __getstate__(self) -> dict[str, Any]:
        """What a copy or a pickle keeps: ``W`` and the activation. The views of ``W``, the
        buffers and the last pass's arrays are made anew: copied one by one, views of ``W`` would
        become arrays of their own that training no longer reaches."""
        return {"W": self._W, "activation": self.activation}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(np.array(state["W"], order="F"), state["activation"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"Dense({self.n_in} -> {self.n_out}, {self.activation.name}, {self._W.dtype})"
