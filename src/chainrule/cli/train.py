"""``chainrule train DATA``: train a network on a CSV/NPZ file or a built-in data set.

Shows a live progress bar on a terminal, prints a summary (or ``--json`` metrics) and saves the
model with ``-o``. Ctrl-C ends training after the current minibatch, keeps the weights, saves
the model and exits 130. Bad input exits 2 with one line, before anything is written.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule.datasets.dataset import MAX_AUTO_CLASSES
from chainrule.engine.activations import ACTIVATIONS
from chainrule.errors import ValidationError

if TYPE_CHECKING:
    from chainrule.fit import TrainConfig


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


def parse_target(text: str | None) -> int | str | None:
    """A column index (``-1``, ``0``) or a column name; ``None`` when not given."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return text


#: ``--task auto`` suggests ``--task regression`` for integer class labels more numerous than
#: this that also fill more than half of the range between the smallest and the largest: ages
#: or counts rather than category codes (see :func:`looks_like_quantity`).
QUANTITY_MIN_VALUES = 20


def looks_like_quantity(classes: list[str] | None) -> bool:
    """Whether class labels look like a numeric quantity read as classes: more than
    :data:`QUANTITY_MIN_VALUES` distinct integers, covering more than half of the integers
    from the smallest to the largest (ages 18..80 with 50 distinct values do; a few dozen
    product codes spread over thousands do not)."""
    if classes is None or len(classes) <= QUANTITY_MIN_VALUES:
        return False
    try:
        values = [int(label) for label in classes]
    except ValueError:
        return False
    return len(classes) > (max(values) - min(values) + 1) / 2


def looks_like_values(classes: list[str] | None, n_samples: int) -> bool:
    """Whether class labels look like the values of a quantity read as classes: numbers,
    more of them than half the rows (prices given ``--task classification``). Text labels
    never do: ``--task regression``, which the note suggests, cannot read them."""
    from chainrule.datasets.files import is_number

    if classes is None or len(classes) <= n_samples / 2:
        return False
    return all(is_number(label) for label in classes)


def looks_like_codes(data: Any) -> bool:
    """Whether a target read as a regression target looks like class codes: whole numbers,
    more distinct ones than ``--task auto`` takes as classes, each seen five times on average
    (200 category codes over 20,000 rows do; prices or the 214 disease scores of 442
    patients in the diabetes data set, most of them seen once or twice, do not)."""
    if data.task != "regression" or not np.all(np.mod(data.y, 1) == 0):
        return False
    distinct = np.unique(data.y).size
    return bool(MAX_AUTO_CLASSES < distinct <= data.n_samples / 5)


def looks_like_row_index(data: Any) -> bool:
    """Whether the first feature is the row index pandas' ``DataFrame.to_csv`` writes unless
    ``index=False``: a column without a name in the header (read as ``column 1``) holding
    whole numbers. Trained on as a feature, row numbers predict nothing the model can use."""
    return bool(
        data.n_samples
        and data.feature_names[0] == "column 1"
        and np.all(np.mod(data.X[:, 0], 1) == 0)
    )


#: The share of the rows in one class from which ``train`` notes that accuracy says little:
#: always predicting that class already scores it.
MAJORITY_NOTE_SHARE = 0.9


def majority_note(data: Any) -> str | None:
    """A note for a target dominated by one class (99:1 fraud, rare diseases), or ``None``:
    accuracy near the majority's share means the minority was not learnt, which only the
    confusion matrix of ``chainrule evaluate`` shows."""
    if data.task != "classification" or not data.n_samples:
        return None
    counts = np.bincount(data.y, minlength=data.n_classes)
    share = counts.max() / data.n_samples
    if share < MAJORITY_NOTE_SHARE or np.count_nonzero(counts) < 2:  # one class: fit refuses it
        return None
    label = data.classes[int(counts.argmax())]
    return (
        f"{share:.1%} of the rows are class {label!r}: predicting it for every row scores "
        f"accuracy {share:.4f}, so compare the accuracy with that, and check the other "
        "classes' rows in the confusion matrix of 'chainrule evaluate MODEL DATA'"
    )


def data_notes(data: Any, task: str) -> list[str]:
    """Notes on how ``data`` was read that a user may want to change: a quantity read as
    classes or class codes read as a quantity (``--task``), a row index read as a feature,
    one class dominating the rows."""
    notes = []
    if task == "auto" and looks_like_quantity(data.classes):
        notes.append(
            f"the target {data.target_name!r} is read as {data.n_classes} classes; if it is a "
            "quantity, use --task regression"
        )
    elif looks_like_values(data.classes, data.n_samples):
        # prices read as classes with --task classification: each value its own class
        notes.append(
            f"the target {data.target_name!r} has {data.n_classes} classes for "
            f"{data.n_samples} rows, most of them seen once, which no classifier can learn; "
            "if it is a quantity, use --task regression"
        )
    elif task == "auto" and looks_like_codes(data):
        notes.append(
            f"the target {data.target_name!r} holds {np.unique(data.y).size} distinct whole "
            f"numbers, more than the {MAX_AUTO_CLASSES} that --task auto reads as classes, so "
            "it is read as a quantity (regression); if they are class codes, use --task "
            "classification"
        )
    if looks_like_row_index(data):
        notes.append(
            f"the first column of {data.name} has no name and holds whole numbers, as the row "
            "index that pandas' to_csv writes: it is trained on as a feature; if it is the "
            "index, write the file with to_csv(..., index=False)"
        )
    note = majority_note(data)
    if note is not None:
        notes.append(note)
    return notes


def register(subparsers: Any) -> None:
    """Add the ``train`` sub-command."""
    from chainrule.cli.common import add_data_arguments, positive_int
    from chainrule.fit import TrainConfig

    defaults = TrainConfig()
    parser = subparsers.add_parser(
        "train",
        help="train a network on a CSV/NPZ file or a built-in data set",
        description=(
            "Train a multi-layer network by back-propagation. DATA is a CSV file (target = last "
            "column unless --target), an NPZ file with arrays X and y, or a built-in data set "
            "name (see 'chainrule datasets'; toy generators are drawn with seed 0; mnist:test "
            "is MNIST's test split). Inputs are "
            "standardised with statistics of the training rows, stored in the model file. "
            "Ctrl-C stops after the current minibatch, keeps the weights and saves them (-o)."
        ),
    )
    parser.add_argument("data", metavar="DATA", help="CSV/NPZ path or built-in data set name")
    add_data_arguments(parser, "target column of a CSV file (default: the last)")
    parser.add_argument(
        "--task",
        choices=["auto", "classification", "regression"],
        default="auto",
        help="how to read the target: auto (default) takes text labels and integers with at "
        "most 100 distinct values as classes, other numbers as a regression target, and notes "
        f"on stderr when more than {QUANTITY_MIN_VALUES} integer classes fill most of their "
        "range (ages, counts: try --task regression)",
    )
    parser.add_argument(
        "--hidden",
        help=(
            f"hidden layer widths, e.g. 64,64 (default {','.join(map(str, defaults.hidden))}; "
            "'' for none: one layer of weights, which cannot learn XOR)"
        ),
    )
    parser.add_argument(
        "--activation",
        help=(
            f"hidden activation (default {defaults.activation}): "
            f"{', '.join(name for name in ACTIVATIONS if name != 'step')} (a step unit cannot "
            "be trained: its derivative is 0)"
        ),
    )
    parser.add_argument(
        "--optimizer",
        choices=["sgd", "momentum", "nesterov", "adam"],
        help=f"default {defaults.optimizer}",
    )
    parser.add_argument(
        "--learning-rate",
        "--lr",
        type=float,
        metavar="ETA",
        help=f"default {defaults.learning_rate:g}",
    )
    parser.add_argument(
        "--momentum",
        type=float,
        help=f"of --optimizer momentum or nesterov (default {defaults.momentum:g})",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        metavar="N",
        help=f"default {defaults.batch_size}",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        metavar="N",
        help=f"epochs to train (default {defaults.epochs}); with --resume: the total to reach "
        "(default: the interrupted run's)",
    )
    parser.add_argument(
        "--l2",
        type=float,
        metavar="LAMBDA",
        help=f"weight decay added to every gradient (default {defaults.l2:g})",
    )
    parser.add_argument(
        "--schedule",
        choices=["constant", "invscaling", "step", "cosine"],
        help="learning-rate schedule over the steps (default constant)",
    )
    parser.add_argument(
        "--validation-fraction",
        type=float,
        metavar="F",
        help="share of rows held out to score each epoch "
        f"(default {defaults.validation_fraction:g})",
    )
    parser.add_argument(
        "--validation-data",
        metavar="PATH",
        help="score each epoch on this file instead of a held-out share of the rows",
    )
    parser.add_argument(
        "--early-stopping",
        action="store_true",
        default=None,
        help="stop when the validation loss stops improving; keep the best epoch's weights",
    )
    parser.add_argument(
        "--patience",
        type=int,
        metavar="N",
        help="with --early-stopping: epochs without improvement before it stops "
        f"(default {defaults.patience})",
    )
    parser.add_argument(
        "--no-standardize",
        dest="standardize",
        action="store_false",
        default=None,
        help="train on the raw feature values",
    )
    parser.add_argument("--seed", type=int, help=f"default {defaults.seed}")
    parser.add_argument("--dtype", choices=["float32", "float64"], help=f"default {defaults.dtype}")
    parser.add_argument("-o", "--output", metavar="PATH", help="save the model file here")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument(
        "--resume",
        metavar="CKPT",
        help="continue from a checkpoint written by --checkpoint, with its settings (only "
        "--epochs, the total to reach, may change), writing further checkpoints into it "
        "(or into --checkpoint); ends bit-identical to an unbroken run",
    )
    parser.add_argument("--checkpoint", metavar="PATH", help="write a checkpoint file here")
    parser.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=1,
        metavar="N",
        help="epochs between checkpoints",
    )
    parser.add_argument("--plots", metavar="DIR", help="write loss/decision/confusion PNGs here")
    parser.set_defaults(func=run)


SETTINGS = {
    "hidden": "--hidden",
    "activation": "--activation",
    "optimizer": "--optimizer",
    "learning_rate": "--learning-rate",
    "momentum": "--momentum",
    "batch_size": "--batch-size",
    "l2": "--l2",
    "validation_fraction": "--validation-fraction",
    "early_stopping": "--early-stopping",
    "patience": "--patience",
    "schedule": "--schedule",
    "standardize": "--no-standardize",
    "seed": "--seed",
    "dtype": "--dtype",
}
"""The :class:`~chainrule.fit.TrainConfig` settings with an option (its ``dest`` is the field
name); those not given stay ``None`` so that TrainConfig's defaults apply and ``--resume`` can
tell what was asked for."""


def given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line, as TrainConfig values (``--epochs`` apart)."""
    given = {name: getattr(args, name) for name in SETTINGS}
    if given["hidden"] is not None:
        given["hidden"] = parse_hidden(given["hidden"])
    return {name: value for name, value in given.items() if value is not None}


def train_config(given: dict[str, Any], epochs: int) -> TrainConfig:
    """The TrainConfig of the options; a value it refuses is named by its option
    (``--epochs must be an integer >= 1``), not by the field the option sets (``epochs``)."""
    from chainrule.fit import TrainConfig

    try:
        return TrainConfig(**given, epochs=epochs)
    except ValidationError as err:
        field, _, rest = str(err).partition(" ")
        option = {**SETTINGS, "epochs": "--epochs"}.get(field)
        if option is None:
            raise
        raise ValidationError(f"{option} {rest}") from None


def check_resume(checkpoint: str, given: dict[str, Any]) -> int:
    """Refuse options that contradict the checkpoint's settings: resuming continues with those,
    so an option that differs would be ignored without a word. Return the number of epochs
    the interrupted run was to reach (what ``--resume`` without ``--epochs`` continues to)."""
    from chainrule.fit import checkpoint_config

    saved = checkpoint_config(checkpoint)
    differ = [
        f"{SETTINGS[name]} ({_shown(value)}; the checkpoint has {_shown(getattr(saved, name))})"
        for name, value in given.items()
        if value != getattr(saved, name)
    ]
    if differ:
        raise ValidationError(
            f"--resume continues with the checkpoint's settings, but {', '.join(differ)}; "
            "leave these options out (only --epochs may change)"
        )
    return saved.epochs


def _shown(value: Any) -> str:
    """A setting as it is written on the command line."""
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    return str(value)


def format_score(value: float) -> str:
    """A score to four decimals, or to four significant digits where decimals would hide it:
    an RMSE is in the target's units, so 1e-9 would read 0.0000 and 1e9 run to 14 digits."""
    if value != 0 and math.isfinite(value) and not 1e-3 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.4f}"


def summary_lines(model: Any, data_name: str, output: str | None) -> list[str]:
    """The human-readable summary of a finished run."""
    history = model.history
    epochs = len(history.epochs)
    lines = [
        f"trained {data_name}: {epochs} epoch{'s' * (epochs != 1)} in {model.seconds:.1f} s "
        f"({history.stopped})",
    ]
    if history.message:
        lines.append(f"  {history.message}")
    final = history.kept
    if final:
        shown = {k: v for k, v in final.items() if k not in ("epoch", "learning_rate")}
        scores = "  ".join(f"{k} {format_score(v)}" for k, v in shown.items())
        if history.best_epoch is not None:
            scores = f"epoch {history.best_epoch} (kept): {scores}"
        lines.append(f"  {scores}")
    lines.append(f"saved the model to {output}" if output else "not saved (use -o PATH)")
    return lines


def read_validation(
    source: str, target: int | str | None, data: Any, delimiter: str | None = None
) -> Any:
    """``--validation-data``, read as a target of the training data's task with the features
    matched by name (see :func:`~chainrule.sources.read_like`), with a note when they are taken
    by position although one side names them; any problem is reported as one of
    ``--validation-data``, with both tasks when they differ."""
    from chainrule.cli.common import note_columns_by_position
    from chainrule.errors import DataError
    from chainrule.sources import read_like

    try:
        target = validation_target(target, data, source, delimiter)
        validation = read_like(data, source, target=target, delimiter=delimiter)
    except DataError as err:
        raise DataError(
            f"--validation-data: {err} (the training data {data.name} are for {data.task})"
        ) from None
    if validation.task != data.task:  # pragma: no cover  (read_dataset refuses it)
        raise DataError(f"--validation-data {source} is for {validation.task}, not {data.task}")
    note_columns_by_position(data.feature_names, source, delimiter, "train", "the training data's")
    return validation


def validation_target(
    target: int | str | None, data: Any, source: str, delimiter: str | None
) -> int | str | None:
    """``--target`` as the ``--validation-data`` file reads it. An index counts the training
    file's columns; when both files name their columns and the validation file's header holds
    the training target's name or every feature's, ``None``: :func:`~chainrule.sources.read_like`
    then finds the target by name, the training target's or the one column that is no feature
    (the same index may hold a feature there). Otherwise (a file without a header) ``target``
    as given.
    """
    from chainrule.datasets.files import default_column_names, first_csv_row, header_names

    path = Path(source)
    unnamed = data.feature_names == default_column_names(data.n_features, target=False)
    binary = path.suffix.lower() in (".npz", ".npy")
    if not isinstance(target, int) or unnamed or binary or not path.is_file():
        return target
    columns = header_names(first_csv_row(path, delimiter=delimiter)[0])
    if data.target_name in columns or set(data.feature_names) <= set(columns):
        return None
    return target


def check_unused_options(args: argparse.Namespace) -> None:
    """Refuse an option that the others leave unused: given, it would change nothing without
    a word. With ``--resume`` the optimizer and early stopping are the checkpoint's, and
    :func:`check_resume` refuses settings that differ from them."""
    from chainrule.fit import TrainConfig

    if args.validation_data is not None and args.validation_fraction is not None:
        raise ValidationError(
            "give --validation-data or --validation-fraction, not both: the validation file "
            "replaces the share of the training rows held out"
        )
    if args.resume is not None:
        return
    optimizer = args.optimizer or TrainConfig.optimizer
    if args.momentum is not None and optimizer not in ("momentum", "nesterov"):
        raise ValidationError(
            f"--momentum applies to --optimizer momentum or nesterov; the optimizer is "
            f"{optimizer}{'' if args.optimizer else ' (the default)'}"
        )
    if args.patience is not None and not args.early_stopping:
        raise ValidationError("--patience applies with --early-stopping; add it")


def run(args: argparse.Namespace) -> int:
    """Train, report and save; see the module docstring for exit statuses."""
    from chainrule._atomic import check_output_path
    from chainrule.cli.common import (
        check_model_output,
        check_output_dir,
        print_json,
    )
    from chainrule.cli.progress import ProgressBar
    from chainrule.fit import TrainConfig, fit, read_dataset
    from chainrule.sources import check_not_a_model

    check_output_path(args.output, "--output")
    check_model_output(args.output, "--output")
    # a resumed run goes on writing its checkpoint, into the file it resumed from by default
    checkpoint = args.resume if args.checkpoint is None else args.checkpoint
    checkpoint_option = "--resume" if args.checkpoint is None else "--checkpoint"
    check_output_path(checkpoint, checkpoint_option)
    check_model_output(args.checkpoint, "--checkpoint")
    if args.output and checkpoint and Path(args.output).resolve() == Path(checkpoint).resolve():
        # the model is saved last, over the checkpoint: the run could not be resumed
        raise ValidationError(
            f"--output and {checkpoint_option} name the same file {args.output!r}: the model "
            "file would replace the checkpoint; give them different names"
        )
    check_output_dir(args.plots, "--plots")
    if args.plots is not None:  # missing, matplotlib is named now, not after the training
        importlib.import_module("matplotlib")
    resume = "; to go on training from a checkpoint, give the data with --resume CKPT"
    check_not_a_model(args.data, "DATA", resume)
    check_not_a_model(args.validation_data, "--validation-data", "")
    check_unused_options(args)
    given = given_settings(args)
    epochs = TrainConfig.epochs if args.epochs is None else args.epochs
    config = train_config(given, epochs)
    if args.resume is not None:
        planned = check_resume(args.resume, given)
        if args.epochs is None:  # continue to the interrupted run's end, not to the default
            config = replace(config, epochs=planned)
    target = parse_target(args.target)
    data = read_dataset(args.data, target=target, task=args.task, delimiter=args.delimiter)
    for note in data_notes(data, args.task):
        print(f"chainrule train: note: {note}", file=sys.stderr)
    validation = (
        None
        if args.validation_data is None
        else read_validation(args.validation_data, target, data, args.delimiter)
    )
    progress = ProgressBar(enabled=False if args.json else None)
    before = _written(checkpoint)  # an older run's checkpoint may lie there
    model = fit(
        data,
        config,
        validation_data=validation,
        callbacks=[progress],
        checkpoint=checkpoint,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
    )
    if args.output:
        model.save(args.output, extra={"data": os.fspath(args.data)})
    plots = []
    if args.plots:
        from chainrule.plots import save_plots

        # every row: the training rows and the validation split (whose scores are above)
        on = f"{data.name}, all rows (training ones included)"
        plots = [str(p) for p in save_plots(model, data.X, data.y, args.plots, data=on)]
    if args.json:
        print_json(
            {
                "data": os.fspath(args.data),
                "task": model.task,
                "n_samples": data.n_samples,
                "n_features": data.n_features,
                "classes": model.classes,
                "epochs": len(model.history.epochs),
                "stopped": model.history.stopped,
                "message": model.history.message,
                "seconds": model.seconds,
                "final": model.history.kept,
                "best_epoch": model.history.best_epoch,
                "history": model.history.epochs,
                "config": model.config.to_dict(),
                "model": args.output,
                "plots": plots,
            }
        )
    else:
        print("\n".join(summary_lines(model, data.name, args.output)))
        for path in plots:
            print(f"wrote {path}")
    if model.history.stopped == "interrupted":
        print(
            "chainrule train: interrupted; kept the weights"
            + resumable(checkpoint, _written(checkpoint) != before or checkpoint == args.resume),
            file=sys.stderr,
        )
        return 130
    return 0


def _written(path: str | None) -> int | None:
    """When the file ``path`` was last written (``None``: no such file, or no path)."""
    try:
        return None if path is None else os.stat(path).st_mtime_ns
    except OSError:
        return None


def resumable(checkpoint: str | None, written: bool) -> str:
    """What Ctrl-C left to resume from: the checkpoint's last complete epoch (the unfinished
    one is not in it), or that none was written. ``written``: this run wrote (or resumed) the
    file; a file an earlier run left there holds another run's epochs, on its own data."""
    from chainrule.errors import ChainruleError
    from chainrule.serialization.checkpoint import load_checkpoint

    if checkpoint is None:
        return ""
    if written:
        try:
            epoch = load_checkpoint(checkpoint)[1]["epoch"]
        except (ChainruleError, KeyError):
            pass
        else:
            return f"; {checkpoint} holds epoch {epoch}: go on with --resume {checkpoint}"
    return f"; this run wrote no checkpoint to {checkpoint} (none before its first checkpoint)"
