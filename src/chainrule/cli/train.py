"""``chainrule train DATA``: train a network on a CSV/NPZ file or a built-in data set.

Shows a live progress bar on a terminal, prints a summary (or ``--json`` metrics) and saves the
model with ``-o``. Ctrl-C ends training after the current minibatch, keeps the weights, saves
the model and exits 130. Bad input exits 2 with one line, before anything is written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from chainrule.errors import ValidationError


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"64,64"`` -> ``(64, 64)``; ``""`` or ``"none"`` -> no hidden layer."""
    if text.strip().lower() in ("", "none"):
        return ()
    widths = []
    for part in text.split(","):
        try:
            width = int(part)
        except ValueError:
            raise ValidationError(
                f"--hidden must be comma-separated layer widths like 64,64; got {text!r}"
            ) from None
        if width < 1:
            raise ValidationError(f"--hidden widths must be >= 1; got {width} in {text!r}")
        widths.append(width)
    return tuple(widths)


def parse_target(text: str | None) -> int | str:
    """A column index (``-1``, ``0``) or a column name."""
    if text is None:
        return -1
    try:
        return int(text)
    except ValueError:
        return text


def check_output_path(path: str | None, what: str) -> None:
    """Fail before training when the output folder does not exist."""
    if path is None:
        return
    folder = Path(path).parent
    if not folder.is_dir():
        raise ValidationError(f"{what}: the folder {str(folder)!r} does not exist")
    if Path(path).is_dir():
        raise ValidationError(f"{what}: {path!r} is a directory; give a file name")


def register(subparsers: Any) -> None:
    """Add the ``train`` sub-command."""
    from chainrule.fit import TrainConfig

    defaults = TrainConfig()
    parser = subparsers.add_parser(
        "train",
        help="train a network on a CSV/NPZ file or a built-in data set",
        description=(
            "Train a multi-layer network by back-propagation. DATA is a CSV file (target = last "
            "column unless --target), an NPZ file with arrays X and y, or a built-in data set "
            "name (see 'chainrule datasets'; toy generators are drawn with seed 0). Inputs are "
            "standardised with statistics of the training rows, stored in the model file. "
            "Ctrl-C stops after the current minibatch, keeps the weights and saves them (-o)."
        ),
    )
    parser.add_argument("data", metavar="DATA", help="CSV/NPZ path or built-in data set name")
    parser.add_argument("--target", metavar="NAME|INDEX", help="target column of a CSV file")
    parser.add_argument(
        "--hidden",
        default=",".join(map(str, defaults.hidden)),
        help=f"hidden layer widths, e.g. 64,64 (default {','.join(map(str, defaults.hidden))})",
    )
    parser.add_argument(
        "--activation",
        default=defaults.activation,
        help=f"hidden activation (default {defaults.activation})",
    )
    parser.add_argument(
        "--optimizer",
        default=defaults.optimizer,
        choices=["sgd", "momentum", "nesterov", "adam"],
        help=f"default {defaults.optimizer}",
    )
    parser.add_argument(
        "--learning-rate",
        "--lr",
        type=float,
        default=defaults.learning_rate,
        metavar="ETA",
        help=f"default {defaults.learning_rate:g}",
    )
    parser.add_argument("--momentum", type=float, default=defaults.momentum, help="default 0.9")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=defaults.batch_size,
        metavar="N",
        help=f"default {defaults.batch_size}",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        metavar="N",
        help=f"epochs to train (with --resume: total to reach) (default {defaults.epochs})",
    )
    parser.add_argument(
        "--l2",
        type=float,
        default=defaults.l2,
        metavar="LAMBDA",
        help=f"weight decay added to every gradient (default {defaults.l2:g})",
    )
    parser.add_argument(
        "--schedule",
        default=defaults.schedule,
        choices=["constant", "invscaling", "step", "cosine"],
        help="learning-rate schedule over the steps (default constant)",
    )
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=defaults.validation_fraction,
        metavar="F",
        help="share of rows held out to score each epoch "
        f"(default {defaults.validation_fraction:g})",
    )
    parser.add_argument(
        "--validation-data", metavar="PATH", help="score each epoch on this file instead"
    )
    parser.add_argument(
        "--early-stopping",
        action="store_true",
        help="stop when the validation loss stops improving; keep the best epoch's weights",
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=defaults.patience,
        metavar="N",
        help=f"epochs without improvement before early stopping (default {defaults.patience})",
    )
    parser.add_argument(
        "--no-standardize", action="store_true", help="train on the raw feature values"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="default 0")
    parser.add_argument(
        "--dtype", default=defaults.dtype, choices=["float32", "float64"], help="default float32"
    )
    parser.add_argument("-o", "--output", metavar="PATH", help="save the model file here")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument(
        "--resume",
        metavar="CKPT",
        help="continue from a checkpoint written by --checkpoint, with its settings (only "
        "--epochs, the total to reach, may change); ends bit-identical to an unbroken run",
    )
    parser.add_argument("--checkpoint", metavar="PATH", help="write a checkpoint file here")
    parser.add_argument(
        "--checkpoint-every", type=int, default=1, metavar="N", help="epochs between checkpoints"
    )
    parser.add_argument("--plots", metavar="DIR", help="write loss/decision/confusion PNGs here")
    parser.set_defaults(func=run)


def summary_lines(model: Any, data_name: str, output: str | None) -> list[str]:
    """The human-readable summary of a finished run."""
    history = model.history
    epochs = len(history.epochs)
    lines = [
        f"trained {data_name}: {epochs} epochs in {model.seconds:.1f} s ({history.stopped})",
    ]
    if history.message:
        lines.append(f"  {history.message}")
    last = history.last
    if last:
        shown = {k: v for k, v in last.items() if k not in ("epoch", "learning_rate")}
        lines.append("  " + "  ".join(f"{k} {v:.4f}" for k, v in shown.items()))
    lines.append(f"saved the model to {output}" if output else "not saved (use -o PATH)")
    return lines


def run(args: argparse.Namespace) -> int:
    """Train, report and save; see the module docstring for exit statuses."""
    from chainrule.cli.progress import ProgressBar
    from chainrule.fit import TrainConfig, fit, read_dataset

    check_output_path(args.output, "--output")
    check_output_path(args.checkpoint, "--checkpoint")
    config = TrainConfig(
        hidden=parse_hidden(args.hidden),
        activation=args.activation,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        momentum=args.momentum,
        batch_size=args.batch_size,
        epochs=TrainConfig.epochs if args.epochs is None else args.epochs,
        l2=args.l2,
        validation_fraction=args.validation_fraction,
        early_stopping=args.early_stopping,
        patience=args.patience,
        schedule=args.schedule,
        standardize=not args.no_standardize,
        seed=args.seed,
        dtype=args.dtype,
    )
    from chainrule.engine.activations import get_activation

    get_activation(config.activation)  # an unknown name fails here, before loading data
    target = parse_target(args.target)
    data = read_dataset(args.data, target=target)
    validation = (
        None if args.validation_data is None else read_dataset(args.validation_data, target=target)
    )
    progress = ProgressBar(enabled=False if args.json else None)
    model = fit(
        data,
        config,
        validation_data=validation,
        callbacks=[progress],
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
    )
    if args.output:
        model.save(args.output, extra={"data": os.fspath(args.data)})
    plots = []
    if args.plots:
        from chainrule.plots import save_plots

        plots = [str(p) for p in save_plots(model, data.X, data.y, args.plots)]
    if args.json:
        report = {
            "data": os.fspath(args.data),
            "task": model.task,
            "n_samples": data.n_samples,
            "n_features": data.n_features,
            "classes": model.classes,
            "epochs": len(model.history.epochs),
            "stopped": model.history.stopped,
            "message": model.history.message,
            "seconds": model.seconds,
            "final": model.history.last,
            "best_epoch": model.history.best_epoch,
            "history": model.history.epochs,
            "config": model.config.to_dict(),
            "model": args.output,
            "plots": plots,
        }
        print(json.dumps(report, indent=1))
    else:
        print("\n".join(summary_lines(model, data.name, args.output)))
        for path in plots:
            print(f"wrote {path}")
    if model.history.stopped == "interrupted":
        print("chainrule train: interrupted; kept the weights", file=sys.stderr)
        return 130
    return 0
