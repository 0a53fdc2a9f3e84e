"""XOR three ways: the lecture's hand-wired step network, back-propagation from random weights,
and the failure of a network without a hidden layer.

Run: python examples/xor.py
"""

import numpy as np

from chainrule.engine import explain, trace
from chainrule.logic import (
    XOR_X,
    hand_wired_xor,
    truth_table,
    xor_learned,
    xor_success_count,
    xor_without_hidden_layer,
)

print("hand-wired:", truth_table(hand_wired_xor()))

run = xor_learned(seed=0, until_solved=False)
print(f"learned (seed 0, {run.epochs} epochs): loss {run.history[0]:.3f} -> {run.history[-1]:.4f}")
print("P(Y = 1 | x) =", np.round(run.network.predict_proba(XOR_X)[:, 1], 3))
print("seeds 0..99 reaching 100%:", xor_success_count(range(100)))
# Without a hidden layer the best cross-entropy fit to XOR is P = 1/2 on every point (loss ln 2):
# the net learns nothing, and its argmax "accuracy" only counts ties broken by rounding.
flat = xor_without_hidden_layer(seed=0)
print(
    f"no hidden layer: loss {flat.history[-1]:.4f} (ln 2 = {np.log(2):.4f}), P(Y = 1 | x) =",
    np.round(flat.network.predict_proba(XOR_X)[:, 1], 3),
    "- nothing learnt",
)

# One token through the learned network, in the lecture's notation.
print(explain.to_text(trace(run.network, XOR_X[1:2], [1], learning_rate=1.0)))
