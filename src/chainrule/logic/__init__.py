"""The lecture as runnable code: McCulloch-Pitts gates, XOR, and the forward-propagation example.

Built on the engine alone (numpy only): gates and the hand-wired XOR net are engine networks of
``step`` units; the learned XOR net is trained by the engine's back-propagation.
"""

from chainrule.logic.gates import (
    GATES,
    Neuron,
    TruthTable,
    binary_inputs,
    format_truth_table,
    gate,
    gate_network,
    truth_table,
)
from chainrule.logic.separability import (
    Certificate,
    Inequality,
    Separability,
    find_certificate,
    inequalities,
    perceptron,
    separability,
    verify_certificate,
)
from chainrule.logic.worked_example import WorkedExample, worked_example
from chainrule.logic.xor import (
    XOR_TABLE,
    XOR_X,
    XOR_Y,
    XorRun,
    hand_wired_xor,
    softmax_decision_unit,
    xor_accuracy,
    xor_learned,
    xor_success_count,
    xor_without_hidden_layer,
)

__all__ = [
    "GATES",
    "XOR_TABLE",
    "XOR_X",
    "XOR_Y",
    "Certificate",
    "Inequality",
    "Neuron",
    "Separability",
    "TruthTable",
    "WorkedExample",
    "XorRun",
    "binary_inputs",
    "find_certificate",
    "format_truth_table",
    "gate",
    "gate_network",
    "hand_wired_xor",
    "inequalities",
    "perceptron",
    "separability",
    "softmax_decision_unit",
    "truth_table",
    "verify_certificate",
    "worked_example",
    "xor_accuracy",
    "xor_learned",
    "xor_success_count",
    "xor_without_hidden_layer",
]
