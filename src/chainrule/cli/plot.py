"""``chainrule plot MODEL DATA -o DIR``: PNG figures of a model on data.

Loss curves (training and validation, from the model's history), the confusion matrix on DATA
and, for two features, the decision regions. Needs matplotlib (drawn with Agg, no window).
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``plot`` sub-command."""
    from chainrule.cli.common import add_data_arguments

    parser = subparsers.add_parser(
        "plot",
        help="draw loss curves, decision regions and a confusion matrix as PNG",
        description="Draw the figures that apply to MODEL on DATA into the folder DIR.",
    )
    parser.add_argument("model", metavar="MODEL", help="model file")
    parser.add_argument("data", metavar="DATA", help="CSV/NPZ path or built-in data set name")
    add_data_arguments(parser, "target column of a CSV file")
    parser.add_argument("-o", "--output", metavar="DIR", required=True, help="folder for PNGs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the figures and list them."""
    from chainrule.cli.common import (
        check_one_label_per_row,
        check_output_dir,
        note_columns_by_position,
    )
    from chainrule.cli.train import parse_target
    from chainrule.errors import ValidationError
    from chainrule.fit import FittedModel, read_for_model
    from chainrule.plots import save_plots
    from chainrule.sources import check_not_a_model

    check_output_dir(args.output, "--output")
    check_not_a_model(args.data, "DATA", " after MODEL")
    model = FittedModel.load(args.model)
    check_one_label_per_row(model, args.model, "plot")
    if not model.history.epochs and model.classes is None:
        raise ValidationError(
            f"nothing to plot: {args.model} holds a regression model without a training "
            "history (loss curves need the epochs 'chainrule train' records; a sweep's best "
            "model has none), and the other figures are for classifiers"
        )
    target = parse_target(args.target)
    X, y = read_for_model(
        model, args.data, target=target, need_target=True, delimiter=args.delimiter
    )
    assert y is not None  # need_target=True
    note_columns_by_position(
        model.named_features(), args.data, args.delimiter, "plot", "the model's"
    )
    for path in save_plots(model, X, y, args.output, data=args.data):
        print(f"wrote {path}")
    return 0
