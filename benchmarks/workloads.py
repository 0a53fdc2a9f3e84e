"""The four training workloads W1-W4 and the arithmetic they cost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Workload:
    """An MLP (hidden layers all ``hidden``, softmax output), a batch size and a data size."""

    name: str
    title: str
    sizes: tuple[int, ...]
    hidden: str
    batch_size: int
    steps_per_epoch: int
    learning_rate: float = 0.01

    @property
    def n_samples(self) -> int:
        return self.batch_size * self.steps_per_epoch

    @property
    def activations(self) -> list[str]:
        return [self.hidden] * (len(self.sizes) - 2) + ["softmax"]

    @property
    def label(self) -> str:
        return f"{'-'.join(map(str, self.sizes))} {self.hidden}, batch {self.batch_size}"

    def data(self, seed: int = 0) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """Synthetic inputs (standard normal) and labels with a learnable signal."""
        rng = np.random.default_rng(seed)
        # Drawn in float32 directly: no float64 temporary inflates the memory measurements.
        X = rng.standard_normal((self.n_samples, self.sizes[0]), dtype=np.float32)
        projection = rng.standard_normal((self.sizes[0], self.sizes[-1]), dtype=np.float32)
        y = np.argmax(X @ projection, axis=1).astype(np.int64)
        return X, y

    def gemm_shapes(self) -> list[tuple[int, int, int]]:
        """``(m, k, n)`` of every matrix product in one training step (forward, dW, dh)."""
        b = self.batch_size
        shapes = []
        for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True)):
            shapes.append((b, n_in, n_out))  # e = h_prev W^T
            shapes.append((n_out, b, n_in))  # dL/dW = dL/de^T h_prev
            if l > 0:
                shapes.append((b, n_out, n_in))  # dL/dh_prev = dL/de W
        return shapes

    def flops_per_step(self) -> int:
        """Multiply-adds of the matrix products, counted as 2 flops each."""
        return sum(2 * m * k * n for m, k, n in self.gemm_shapes())


WORKLOADS = {
    w.name: w
    for w in (
        Workload("W1", "toy", (2, 16, 16, 2), "tanh", 10, 200),
        Workload("W2", "digits", (64, 128, 10), "relu", 32, 100),
        Workload("W3", "mnist", (784, 256, 256, 10), "relu", 128, 24),
        Workload("W4", "wide", (784, 2048, 2048, 10), "relu", 512, 3),
    )
}


OTHER_WORKLOADS = {
    w.name: w
    for w in (
        Workload("S1", "one wide layer", (784, 512, 10), "relu", 64, 40),
        Workload("S2", "per-token SGD", (100, 50, 2), "tanh", 1, 2000),
        Workload("S3", "deep tanh", (20, 64, 64, 64, 5), "tanh", 256, 20),
        Workload("S4", "colour-image input", (3072, 512, 512, 10), "relu", 128, 10),
        Workload("S5", "large batch", (784, 1024, 10), "relu", 1024, 4),
        Workload("S6", "five hidden layers", (50, 200, 200, 200, 200, 3), "relu", 32, 100),
    )
}
"""Shapes that no target names, measured against PyTorch alone: a check that the engine is fast
in general, not tuned to W1-W4."""
