"""``chainrule explain``: one token's forward and backward pass, in the lecture's notation.

chainrule explain --sizes 2,3,2 --activations relu,softmax --seed 0 --x 0.5,1.0 --y 1
chainrule explain --weights net.npz --x 0.5,1.0 --y 1 --format markdown
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from chainrule.cli.common import (
    add_network_arguments,
    network_from_args,
    network_loss,
    parse_floats,
    positive_float,
)
from chainrule.engine import explain
from chainrule.engine.network import Network
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
        help="its target: a class index for cross-entropy (with a model file: a class label "
        "as the data has it, or an index when the labels are not numbers), else one value per "
        "output (omit for the forward pass only)",
    )
    parser.add_argument("--format", choices=sorted(RENDERERS), default="table")
    parser.add_argument(
        "--learning-rate", type=positive_float, default=0.1, help="eta of the step (default 0.1)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the network, trace the token and print the chosen rendering.

    A model file (``--weights``) stores the standardisation its network was trained with: the
    raw ``--x`` (and a regression ``--y``) go through it first, as prediction does, and the
    output says so; the trace is of the standardised token.
    """
    loaded = network_from_args(args)
    net = loaded.net
    x = list(args.x)
    _check_width(x, net.sizes[0])
    if loaded.standardizer is not None:
        x = loaded.standardizer.transform(np.array([x]))[0].tolist()
    y: list[Any] | None = None
    raw_y: list[float] | None = None
    target_label: dict[str, Any] | None = None  # the class a label names, for the trace's index
    if args.y is not None:
        loss = network_loss(net)
        classes = None if loaded.model is None else loaded.model.classes
        if loss.name == "cross_entropy":
            label = _labelled_class(args.y, classes)
            y = [_class_index(_numbers(args.y), net.sizes[-1]) if label is None else label]
            if label is not None and classes is not None:
                target_label = {"label": classes[label], "y": label, "classes": classes}
        else:
            raw_y = _numbers(args.y)
            _check_target_count(raw_y, net.sizes[-1], loss.name)
            if loaded.target_scaler is not None and len(raw_y) == 1:
                y = [loaded.target_scaler.transform(np.array([raw_y]))[0].tolist()]
            else:
                y = [raw_y]
    if y is not None:
        _check_target(net, y)
    result = trace(net, [x], y, learning_rate=args.learning_rate)
    rendered = RENDERERS[args.format](result)
    if args.format == "json":  # one JSON document, nothing before it: what a parser reads
        document = json.loads(rendered)
        if loaded.standardizer is not None:
            document["standardization"] = {"raw_x": list(args.x), "x": x, "y": y}
        if target_label is not None:
            document["target_label"] = target_label
        print(json.dumps(document, indent=2))
        return 0
    if loaded.standardizer is not None:
        # to the 6 significant digits of the trace below, which shows the same numbers
        print(
            "x standardised with the model's stored statistics: "
            f"{explain.format_vector(args.x)} -> {explain.format_vector(x)}"
        )
        if y is not None and loaded.target_scaler is not None:
            print(
                f"y standardised likewise: {explain.format_vector(raw_y or [])} -> "
                f"{explain.format_vector(y[0])}"
            )
    if target_label is not None:
        print(
            f"target: the class labelled {target_label['label']!r} is y = {target_label['y']} "
            f"(the model's classes in order: {', '.join(target_label['classes'])})"
        )
    print(rendered)
    return 0


def _numbers(text: str) -> list[float]:
    """``--y`` as numbers, or the one-line error naming the option."""
    try:
        return parse_floats(text)
    except argparse.ArgumentTypeError as err:
        raise ValidationError(f"--y: {err}") from None


def _labelled_class(text: str, classes: list[str] | None) -> int | None:
    """The class of the model's ``classes`` that ``--y`` names by its label, or ``None`` when
    ``--y`` is a class index: without labels, with labels ``0 .. K-1`` (each its own index),
    or with text labels and a number typed. Numeric labels other than ``0 .. K-1`` (grades
    1, 2, 3) are the data's own: ``--y 1`` is the label 1, never the index of the label 2,
    and a number that is no label is refused with the labels listed."""
    if classes is None or classes == [str(k) for k in range(len(classes))]:
        return None
    typed = text.strip()
    if typed in classes:
        return classes.index(typed)
    numeric = [_as_number(label) for label in classes]
    value = _as_number(typed)
    if value is not None and None not in numeric and value in numeric:
        return numeric.index(value)
    if value is None or None not in numeric:
        raise ValidationError(
            f"--y must be one of the model's class labels ({', '.join(classes)}); got {typed!r}"
        )
    if not (value.is_integer() and 0 <= value < len(classes)):
        raise ValidationError(
            f"--y must be one of the model's class labels ({', '.join(classes)}) or its index "
            f"0..{len(classes) - 1}; got {typed!r}"
        )
    return None  # text labels, a number typed: a class index


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _class_index(values: list[float], n_classes: int) -> int:
    """``--y`` for cross-entropy: one whole number, the class index ``y``, or raise.

    Checked here, where the message can name the option and the value as typed; a whole
    number out of ``0..n_classes - 1`` is refused by the engine's check of every class label.
    """
    units = f"(the output layer has {n_classes} units)"
    if len(values) != 1:
        raise ValidationError(
            f"--y must be one class index for cross_entropy {units}; got {len(values)} values"
        )
    (label,) = values
    if not label.is_integer():
        raise ValidationError(
            f"--y must be a class index in 0..{n_classes - 1} for cross_entropy {units}; "
            f"got {label:g}"
        )
    return int(label)  # a class out of range: the engine's check names it


def _values(count: int) -> str:
    """``1 value``, ``3 values``."""
    return f"{count} value{'' if count == 1 else 's'}"


def _check_width(x: list[float], n_inputs: int) -> None:
    """``--x`` must have one value per input of the network."""
    if len(x) != n_inputs:
        raise ValidationError(f"--x has {_values(len(x))} but the network takes {n_inputs} inputs")


def _check_target_count(values: list[float], n_outputs: int, loss: str) -> None:
    """``--y`` for a loss other than cross-entropy: one target per output unit ``j``."""
    if len(values) != n_outputs:
        raise ValidationError(
            f"--y must hold one target per output unit for {loss} (the output layer has "
            f"{n_outputs} units); got {_values(len(values))}"
        )


def _check_target(net: Network, y: list[Any]) -> None:
    """The engine's check of the target, its message naming ``--y``, the option typed.

    The engine words it for arrays (``y[0] = 3 is not a class index in 0..2``); the
    learner typed ``--y 3`` and needs to see which option to change.
    """
    try:
        net.check_targets(y, 1, network_loss(net))
    except ValidationError as err:
        raise ValidationError(f"--y: {err}") from None
