"""The engine: a multi-layer network trained by explicit back-propagation, on numpy alone.

Nothing here imports anything but numpy and the standard library.
"""

from chainrule.engine.activations import ACTIVATIONS, Activation, get_activation
from chainrule.engine.gradcheck import GradcheckReport, LayerCheck, gradcheck
from chainrule.engine.init import INITIALIZERS, glorot_uniform, he_uniform, small_uniform
from chainrule.engine.layers import Dense
from chainrule.engine.losses import LOSSES, Loss, get_loss
from chainrule.engine.network import Network
from chainrule.engine.optimizers import SGD, Adam, Momentum, Optimizer, make_optimizer
from chainrule.engine.trace import LayerTrace, Trace, trace
from chainrule.engine.training import Trainer, train

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "SGD",
    "Activation",
    "Adam",
    "Dense",
    "GradcheckReport",
    "LayerCheck",
    "LayerTrace",
    "Loss",
    "Momentum",
    "Network",
    "Optimizer",
    "Trace",
    "Trainer",
    "get_activation",
    "get_loss",
    "glorot_uniform",
    "gradcheck",
    "he_uniform",
    "make_optimizer",
    "small_uniform",
    "trace",
    "train",
]
