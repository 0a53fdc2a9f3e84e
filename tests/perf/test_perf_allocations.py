"""The steady state of training allocates nothing that lives, and nothing batch-sized.

After warm-up (buffers made for the batch size, scratch arrays for the optimizer), each step may
only make small temporaries: scalars, per-token vectors, and the scratch numpy's ufunc iterator
takes for a broadcast operand (``e += w_bias``), which is capped at 8192 elements whatever the
batch. The batches below are large enough that one batch-sized array would be several times the
bound. Measured with tracemalloc, which sees numpy's array memory. Not a timing test.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from chainrule.engine import SGD, Adam, Momentum, Network, Trainer

PER_STEP_PEAK_BYTES = 48 * 1024
"""numpy's iterator buffer (<= 32 KiB for float32) plus small change; a (256, 128) float32
temporary alone is 128 KiB."""


@pytest.mark.parametrize(
    ("sizes", "activations", "optimizer"),
    [
        ([64, 128, 10], ["relu", "softmax"], SGD),  # W2's network
        ([64, 128, 10], ["relu", "softmax"], Momentum),
        ([64, 128, 10], ["relu", "softmax"], Adam),
        ([100, 128, 128, 10], ["tanh", "leaky_relu", "softmax"], SGD),
        ([8, 128, 1], ["sigmoid", "sigmoid"], SGD),  # binary cross-entropy
        ([256, 256, 10], ["relu", "softmax"], SGD),  # 68,362 weights: SGD folded into BLAS
    ],
)
def test_steps_after_warm_up_allocate_only_small_temporaries(sizes, activations, optimizer):
    rng = np.random.default_rng(0)
    batch, steps_per_epoch = 256, 110
    X = rng.standard_normal((batch * steps_per_epoch, sizes[0])).astype(np.float32)
    if activations[-1] == "softmax":
        y = rng.integers(0, sizes[-1], len(X))
    else:
        y = rng.integers(0, 2, (len(X), sizes[-1]))
    net = Network(sizes, activations, seed=0)
    trainer = Trainer(net, X, y, optimizer=optimizer(0.001), batch_size=batch, seed=0)
    for _ in range(3):  # warm-up: the buffers and the optimizer's state exist after one step
        trainer.step_minibatch()
    peaks, growth = _trace_100_steps(trainer)
    assert trainer.in_epoch and trainer.steps == 103
    assert peaks.max() < PER_STEP_PEAK_BYTES, f"a step allocated up to {peaks.max()} bytes"
    assert growth < GROWTH_BYTES, f"memory grew by {growth} bytes over 90 steps"


GROWTH_BYTES = 4096
"""Python's free lists may keep a few small objects; a leak of one small array or list entry per
step would be 90 * (56 to 150) bytes."""


def _trace_100_steps(trainer):
    """Per-step peak allocation and the growth from step 10 to step 100, by tracemalloc."""
    peaks = np.zeros(100, dtype=np.int64)  # preallocated: the measurement must not grow
    tracemalloc.start()
    try:
        for i in range(100):
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            trainer.step_minibatch()
            peaks[i] = tracemalloc.get_traced_memory()[1] - before
            if i == 9:  # Python's free lists settle in during the first traced steps
                start, _ = tracemalloc.get_traced_memory()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peaks, end - start


class _LeakySGD(SGD):
    def __init__(self, learning_rate):
        super().__init__(learning_rate)
        self.kept = []

    def step(self, params, grads):
        super().step(params, grads)
        self.kept.append(np.empty(2))  # the kind of leak the bound must catch


def test_a_leak_of_one_small_array_per_step_would_be_caught():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256 * 110, 8)).astype(np.float32)
    net = Network([8, 4, 2], ["tanh", "softmax"], seed=0)
    trainer = Trainer(net, X, rng.integers(0, 2, len(X)), optimizer=_LeakySGD(0.01), batch_size=256)
    trainer.step_minibatch()
    _, growth = _trace_100_steps(trainer)
    assert growth > GROWTH_BYTES


def test_a_batch_sized_temporary_would_be_caught():
    """The bound above is tight enough: one float32 copy of a (256, 128) array exceeds it."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        np.ones((256, 128), dtype=np.float32).copy()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - before > PER_STEP_PEAK_BYTES
