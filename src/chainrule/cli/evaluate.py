"""``chainrule evaluate MODEL DATA``: score a saved model on labelled data.

Classification: accuracy, log loss and the confusion matrix (rows: true class, columns:
predicted). Regression: R^2, RMSE. ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``evaluate`` sub-command."""
    from chainrule.cli.common import add_data_arguments

    parser = subparsers.add_parser(
        "evaluate",
        help="score a model file on labelled data",
        description=(
            "Score MODEL (from 'chainrule train -o') on DATA: a CSV/NPZ file with the model's "
            "feature columns and the target (last column unless --target), or a data set name."
        ),
    )
    parser.add_argument("model", metavar="MODEL", help="model file")
    parser.add_argument("data", metavar="DATA", help="CSV/NPZ path or built-in data set name")
    add_data_arguments(
        parser,
        "target column of a CSV file (default: the one column that is "
        "not a feature, else the last)",
    )
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.set_defaults(func=run)


def scores(
    model: Any, source: str, target: int | str | None, delimiter: str | None = None
) -> dict[str, Any]:
    """The scores of ``model`` on the data at ``source`` (see the module docstring)."""
    import numpy as np

    from chainrule.engine.metrics import accuracy, confusion_matrix, log_loss, r2_score, rmse
    from chainrule.fit import read_for_model

    X, y = read_for_model(model, source, target=target, need_target=True, delimiter=delimiter)
    assert y is not None
    report: dict[str, Any] = {"data": source, "task": model.task, "n_samples": len(X)}
    if model.classes is None:
        predicted = model.predict_codes(X)
        report.update(r2=r2_score(y, predicted), rmse=rmse(y, predicted))
        return report
    if model.net.activations[-1] == "step":  # 0/1 decisions (a McCulloch-Pitts output unit)
        predicted, loss = model.predict_codes(X).astype(np.int64), None  # no probabilities
    else:
        proba = model.predict_proba(X)
        predicted, loss = proba.argmax(axis=1), log_loss(y, proba)
    report.update(
        accuracy=accuracy(y, predicted),
        log_loss=loss,
        classes=model.classes,
        confusion_matrix=confusion_matrix(y, predicted, len(model.classes)).tolist(),
    )
    return report


def format_confusion(matrix: list[list[int]], classes: list[str]) -> list[str]:
    """A text table: one row per true class, one column per predicted class."""
    width = max(*(len(c) for c in classes), *(len(str(v)) for row in matrix for v in row))
    head = " " * (width + 2) + " ".join(f"{c:>{width}}" for c in classes)
    rows = [
        f"{label:>{width}}  " + " ".join(f"{v:>{width}}" for v in row)
        for label, row in zip(classes, matrix, strict=True)
    ]
    return ["confusion matrix (rows: true class, columns: predicted):", head, *rows]


def run(args: argparse.Namespace) -> int:
    """Print the scores."""
    from chainrule.cli.common import (
        check_one_label_per_row,
        note_columns_by_position,
        print_json,
    )
    from chainrule.cli.train import parse_target
    from chainrule.fit import FittedModel
    from chainrule.sources import check_not_a_model

    check_not_a_model(args.data, "DATA", " after MODEL")
    model = FittedModel.load(args.model)
    check_one_label_per_row(model, args.model, "evaluate")
    target = parse_target(args.target)
    report = scores(model, args.data, target, args.delimiter)
    note_columns_by_position(
        model.named_features(), args.data, args.delimiter, "evaluate", "the model's"
    )
    if args.json:
        print_json(report)  # a NaN score (R^2 of a constant target) as null, not invalid JSON
        return 0
    print(f"{args.data}: {report['n_samples']} rows ({model.task})")
    if model.classes is None:
        print(f"  R^2 {report['r2']:.4f}  RMSE {report['rmse']:.4g}")
        return 0
    loss = report["log_loss"]
    loss_text = "none (step units give no probabilities)" if loss is None else f"{loss:.4f}"
    print(f"  accuracy {report['accuracy']:.4f}  log loss {loss_text}")
    print("\n".join(format_confusion(report["confusion_matrix"], model.classes)))
    return 0
