"""One object per implementation with the same interface: ``run_epoch()`` trains one epoch.

Every implementation trains the same network (same sizes, activations, float32, softmax +
cross-entropy) with plain SGD at the same learning rate and batch size, reshuffling each epoch.
Heavy libraries are imported only by the implementation that needs them, so a process measuring
one implementation's memory loads only that one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from benchmarks.reference_numpy import ReferenceMLP
from benchmarks.workloads import Workload


class Implementation(Protocol):
    def run_epoch(self) -> None: ...


class Chainrule:
    """The engine's own training loop: ``Trainer.run_epoch`` with ``SGD``."""

    def __init__(self, w: Workload, X: NDArray[np.float32], y: NDArray[np.int64]) -> None:
        from chainrule.engine import SGD, Network, Trainer

        net = Network(list(w.sizes), w.activations, seed=0)
        self.trainer = Trainer(
            net, X, y, optimizer=SGD(w.learning_rate), batch_size=w.batch_size, seed=0
        )

    def run_epoch(self) -> None:
        self.trainer.run_epoch()


class NumpyReference:
    """:class:`~benchmarks.reference_numpy.ReferenceMLP` in a minimal epoch loop."""

    def __init__(self, w: Workload, X: NDArray[np.float32], y: NDArray[np.int64]) -> None:
        self.w, self.X, self.y = w, X, y
        self.mlp = ReferenceMLP(list(w.sizes), w.hidden)
        self.rng = np.random.default_rng(0)
        self.X_epoch, self.y_epoch = np.empty_like(X), np.empty_like(y)

    def run_epoch(self) -> None:
        order = self.rng.permutation(len(self.X))
        np.take(self.X, order, axis=0, out=self.X_epoch)
        np.take(self.y, order, axis=0, out=self.y_epoch)
        b, lr = self.w.batch_size, self.w.learning_rate
        for start in range(0, len(self.X), b):
            self.mlp.step(self.X_epoch[start : start + b], self.y_epoch[start : start + b], lr)


def torch_mlp(sizes: tuple[int, ...], hidden: str) -> Any:
    """``nn.Sequential`` of Linear layers with ``hidden`` between them (logits out)."""
    import torch

    layers: list[Any] = []
    for l, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(torch.nn.Linear(n_in, n_out, dtype=torch.float32))  # whatever the default
        if l < len(sizes) - 2:
            layers.append(torch.nn.Tanh() if hidden == "tanh" else torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


class Torch:
    """PyTorch CPU, float32: ``zero_grad``, forward, cross-entropy, ``backward``, ``SGD.step``."""

    def __init__(self, w: Workload, X: NDArray[np.float32], y: NDArray[np.int64]) -> None:
        import torch

        torch.manual_seed(0)
        self.torch = torch
        self.w = w
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)
        self.model = torch_mlp(w.sizes, w.hidden)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=w.learning_rate)
        self.generator = torch.Generator().manual_seed(0)

    def run_epoch(self) -> None:
        torch = self.torch
        order = torch.randperm(len(self.X), generator=self.generator)
        X_epoch, y_epoch = self.X[order], self.y[order]
        b = self.w.batch_size
        cross_entropy = torch.nn.functional.cross_entropy
        for start in range(0, len(X_epoch), b):
            self.optimizer.zero_grad(set_to_none=True)
            loss = cross_entropy(self.model(X_epoch[start : start + b]), y_epoch[start : start + b])
            loss.backward()
            self.optimizer.step()


class Sklearn:
    """scikit-learn's ``MLPClassifier(solver='sgd')``, one ``partial_fit`` per epoch.

    Same batch and learning rate, ``momentum=0``, ``alpha=0`` (no L2), constant rate. With two
    classes (W1) scikit-learn uses one logistic output unit instead of a 2-way softmax.
    """

    def __init__(self, w: Workload, X: NDArray[np.float32], y: NDArray[np.int64]) -> None:
        from sklearn.neural_network import MLPClassifier

        self.X, self.y = X, y
        self.classes = np.arange(w.sizes[-1])
        self.model = MLPClassifier(
            hidden_layer_sizes=w.sizes[1:-1],
            activation=w.hidden,
            solver="sgd",
            batch_size=w.batch_size,
            learning_rate="constant",
            learning_rate_init=w.learning_rate,
            momentum=0.0,
            nesterovs_momentum=False,
            alpha=0.0,
            shuffle=True,
            random_state=0,
        )

    def run_epoch(self) -> None:
        self.model.partial_fit(self.X, self.y, classes=self.classes)


class GemmOnly:
    """Not an implementation: only the matrix products of one step, on contiguous arrays.

    Times the float32 GEMMs of the workload's own shapes, the ceiling any numpy MLP can reach.
    """

    def __init__(self, w: Workload, X: NDArray[np.float32], y: NDArray[np.int64]) -> None:
        rng = np.random.default_rng(0)
        self.products = []
        for m, k, n in w.gemm_shapes():
            a = rng.standard_normal((m, k)).astype(np.float32)
            b = rng.standard_normal((k, n)).astype(np.float32)
            self.products.append((a, b, np.empty((m, n), dtype=np.float32)))
        self.steps = w.steps_per_epoch

    def run_epoch(self) -> None:
        for _ in range(self.steps):
            for a, b, out in self.products:
                np.matmul(a, b, out=out)


IMPLEMENTATIONS: dict[str, Callable[[Workload, Any, Any], Implementation]] = {
    "chainrule": Chainrule,
    "numpy-ref": NumpyReference,
    "torch": Torch,
    "sklearn": Sklearn,
    "gemm-only": GemmOnly,
}
"""Name -> constructor ``(workload, X, y)``. ``gemm-only`` is the ceiling, not a contender."""
