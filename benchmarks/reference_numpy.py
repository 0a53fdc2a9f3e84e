"""The yardstick: a plain hand-written numpy MLP, the fastest straightforward numpy code.

float32, explicit forward and backward passes, buffers reused per batch size, the fused
softmax-cross-entropy gradient ``(softmax(e) - onehot(y)) / n``, and weights stored the way BLAS
likes them (``W`` of shape ``(n_in, n_out)`` plus a separate bias vector ``b``). No classes of
activations, no validation, no divergence guard: chainrule's engine must be at least this fast.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]


class ReferenceMLP:
    """An MLP of widths ``sizes``: hidden layers ``hidden`` ('tanh' or 'relu'), softmax out."""

    def __init__(self, sizes: list[int], hidden: str, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.hidden = hidden
        self.W: list[F32] = []
        self.b: list[F32] = []
        for n_in, n_out in itertools.pairwise(sizes):
            limit = np.sqrt(6.0 / n_in) if hidden == "relu" else np.sqrt(6.0 / (n_in + n_out))
            self.W.append(rng.uniform(-limit, limit, size=(n_in, n_out)).astype(np.float32))
            self.b.append(np.zeros(n_out, dtype=np.float32))
        self.gW = [np.empty_like(W) for W in self.W]
        self.gb = [np.empty_like(b) for b in self.b]
        self.scratch = [np.empty_like(W) for W in self.W]
        self._buffers: dict[int, tuple[list[F32], list[F32], NDArray[np.intp]]] = {}

    def _buffers_for(self, n: int) -> tuple[list[F32], list[F32], NDArray[np.intp]]:
        buffers = self._buffers.get(n)
        if buffers is None:
            a = [np.empty((n, W.shape[1]), dtype=np.float32) for W in self.W]
            d = [np.empty((n, W.shape[1]), dtype=np.float32) for W in self.W[:-1]]
            buffers = (a, d, np.arange(n))
            self._buffers[n] = buffers
        return buffers

    def forward(self, X: F32) -> F32:
        a, _, _ = self._buffers_for(len(X))
        h = X
        last = len(self.W) - 1
        for i, (W, b) in enumerate(zip(self.W, self.b, strict=True)):
            z = np.matmul(h, W, out=a[i])
            z += b
            if i < last:
                if self.hidden == "tanh":
                    np.tanh(z, out=z)
                else:
                    np.maximum(z, 0, out=z)
            h = z
        h -= h.max(axis=1, keepdims=True)
        np.exp(h, out=h)
        h /= h.sum(axis=1, keepdims=True)
        return h

    def step(self, X: F32, y: NDArray[np.intp], lr: float) -> float:
        """One SGD step on the batch; returns the mean cross-entropy before the update."""
        n = len(X)
        a, d, rows = self._buffers_for(n)
        p = self.forward(X)
        loss = -float(np.log(p[rows, y]).mean())
        dz = p  # fused softmax + cross-entropy: dL/dz = (p - onehot(y)) / n, in place
        dz[rows, y] -= 1
        dz *= 1.0 / n
        for i in range(len(self.W) - 1, -1, -1):
            h_prev = X if i == 0 else a[i - 1]
            np.matmul(h_prev.T, dz, out=self.gW[i])
            np.sum(dz, axis=0, out=self.gb[i])
            if i > 0:
                dh = np.matmul(dz, self.W[i].T, out=d[i - 1])
                if self.hidden == "tanh":
                    t = np.multiply(h_prev, h_prev, out=a[i - 1])  # h_prev no longer needed
                    np.subtract(1, t, out=t)
                    dh *= t
                else:
                    dh *= h_prev > 0
                dz = dh
        for W, b, gW, gb, s in zip(self.W, self.b, self.gW, self.gb, self.scratch, strict=True):
            W -= np.multiply(gW, lr, out=s)
            gb *= lr
            b -= gb
        return loss
