"""``chainrule explain``: one token's forward and backward pass, in the lecture's notation.

chainrule explain --sizes 2,3,2 --activations relu,softmax --seed 0 --x 0.5,1.0 --y 1
chainrule explain --weights net.npz --x 0.5,1.0 --y 1 --format markdown
"""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.cli.common import (
    add_network_arguments,
    network_from_args,
    network_loss,
    parse_floats,
    positive_float,
)
from chainrule.engine import explain
from chainrule.engine.trace import trace
from chainrule.errors import ValidationError

RENDERERS = {"table": explain.to_text, "markdown": explain.to_markdown, "json": explain.to_json}


def register(subparsers: Any) -> None:
    """Add the ``explain`` sub-command."""
    parser = subparsers.add_parser(
        "explain",
        help="show every e, h, dL/dh, dL/de and dL/dw for one token",
        description="Trace one token through a network: the forward pass, back-propagation "
        "and one gradient-descent step, in the lecture's notation.",
    )
    add_network_arguments(parser)
    parser.add_argument(
        "--x", type=parse_floats, required=True, help="the token's inputs, e.g. 0.5,1.0"
    )
    parser.add_argument(
        "--y",
        type=parse_floats,
        help="its target: a class index for cross-entropy, else one value per output "
        "(omit for the forward pass only)",
    )
    parser.add_argument("--format", choices=sorted(RENDERERS), default="table")
    parser.add_argument(
        "--learning-rate", type=positive_float, default=0.1, help="eta of the step (default 0.1)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the network, trace the token and print the chosen rendering."""
    net = network_from_args(args)
    y: list[Any] | None = None
    if args.y is not None:
        loss = network_loss(net)
        if loss.name == "cross_entropy":
            if len(args.y) != 1:
                raise ValidationError(
                    f"--y must be one class index for cross_entropy; got {len(args.y)} values"
                )
            (label,) = args.y
            y = [int(label) if label.is_integer() else label]
        else:
            y = [args.y]
    result = trace(net, [args.x], y, learning_rate=args.learning_rate)
    print(RENDERERS[args.format](result))
    return 0
