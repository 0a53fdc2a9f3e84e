"""Helpers shared by the sub-commands: list parsing, network options and weight files.

No mathematics here: these turn command-line text into the arguments of library functions and
raise :class:`~chainrule.errors.ChainruleError` subclasses (one clear line, exit status 2) or
``argparse.ArgumentTypeError`` (argparse's own one-line error, also status 2) for bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import numpy as np

from chainrule._atomic import check_writable_folder
from chainrule._json import json_ready
from chainrule.engine.activations import ACTIVATIONS
from chainrule.engine.losses import LOSSES, Loss, get_loss
from chainrule.engine.network import Network
from chainrule.errors import ModelFileError, ValidationError

if TYPE_CHECKING:
    from chainrule.datasets import Standardizer
    from chainrule.fit import FittedModel

T = TypeVar("T")

DEFAULT_SIZES = "2,3,2"


def _parse_one(item: str, what: str, convert: Callable[[str], T]) -> T:
    try:
        return convert(item.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}; got {item!r}") from None


def _parse_list(text: str, what: str, convert: Callable[[str], T]) -> list[T]:
    items = text.split(",")
    if not text.strip() or any(not item.strip() for item in items):
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list like '1,2'; got {text!r}"
        )
    return [_parse_one(item, what, convert) for item in items]


def parse_floats(text: str) -> list[float]:
    """``"0.5,1.0"`` -> ``[0.5, 1.0]`` (finite numbers only)."""
    values = _parse_list(text, "a number", float)
    if not all(np.isfinite(values)):
        raise argparse.ArgumentTypeError(f"expected finite numbers; got {text!r}")
    return values


def parse_sizes(text: str) -> list[int]:
    """``"2,16,2"`` -> ``[2, 16, 2]``: at least two layer widths, each >= 1."""
    sizes = _parse_list(text, "an integer", int)
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"sizes must list at least 2 widths >= 1 (inputs, ..., outputs); got {text!r}"
        )
    return sizes


def parse_activations(text: str) -> list[str]:
    """``"relu,softmax"`` -> ``["relu", "softmax"]``, each a known activation."""
    names = _parse_list(text, "an activation name", str)
    for name in names:
        if name not in ACTIVATIONS:
            raise argparse.ArgumentTypeError(
                f"unknown activation {name!r}; expected one of {', '.join(sorted(ACTIVATIONS))}"
            )
    return names


def positive_float(text: str) -> float:
    """A finite number > 0 (learning rates, step sizes)."""
    value = _parse_one(text, "a number", float)
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0; got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0 (seeds)."""
    value = _parse_one(text, "an integer", int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0; got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (batch sizes, counts)."""
    value = _parse_one(text, "an integer", int)
    if value < 1:  # -3 too: "expected >= 0" would suggest that 0 is fine
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {text!r}")
    return value


def parse_delimiter(text: str) -> str:
    """A CSV field separator: one character, or ``tab`` / ``\\t`` for a tab (a shell passes
    a typed ``\\t`` as two characters)."""
    if text in ("tab", "\\t"):
        return "\t"
    if len(text) != 1 or text in '"\r\n':
        raise argparse.ArgumentTypeError(
            f"expected one character (or 'tab') other than a quote or newline; got {text!r}"
        )
    return text


def add_data_arguments(parser: argparse.ArgumentParser, target: str) -> None:
    """``--target`` (described by ``target``) and ``--delimiter`` for a CSV file's columns."""
    parser.add_argument(
        "--target",
        metavar="NAME|INDEX",
        help=f"{target}: a header name, or a 0-based index (-1: the last column; error "
        "messages say 'column 2 (index 1)'); in a file without a header the columns are named "
        "x1..xk and y (the last)",
    )
    parser.add_argument(
        "--delimiter",
        type=parse_delimiter,
        metavar="CHAR",
        help="field separator of a CSV file ('tab' for a tab; default: detected among comma, "
        "semicolon and tab)",
    )


def add_network_arguments(parser: argparse.ArgumentParser, dtype_help: str = "") -> None:
    """``--sizes/--activations/--seed`` or ``--weights FILE``, plus ``--dtype`` (``dtype_help``
    says what it changes, where the command gives it another meaning) and ``--loss``."""
    group = parser.add_argument_group("network (sizes, activations and seed, or a weights file)")
    group.add_argument(
        "--sizes",
        type=parse_sizes,
        help=f"layer widths, inputs first (default {DEFAULT_SIZES})",
    )
    group.add_argument(
        "--activations",
        type=parse_activations,
        help="one activation per layer (default tanh for hidden layers, softmax at the output)",
    )
    group.add_argument(
        "--seed", type=non_negative_int, default=0, help="seed of the random weights (default 0)"
    )
    group.add_argument(
        "--weights",
        type=Path,
        metavar="FILE",
        help=".npz with arrays W1..WL and 'activations' (optionally 'loss'), or a chainrule "
        "model file",
    )
    group.add_argument(
        "--dtype",
        choices=["float32", "float64"],
        default="float64",
        help=f"default float64{dtype_help}",
    )
    group.add_argument("--loss", choices=sorted(LOSSES), help="default: the output's paired loss")


def load_weights_npz(path: Path, dtype: str) -> Network:
    """A network from an ``.npz`` holding ``W1 .. WL``, ``activations`` and optionally ``loss``.

    Never unpickles (``allow_pickle=False``).
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise ModelFileError(f"weights file {str(path)!r} does not exist") from None
    except (
        OSError,
        ValueError,
        zipfile.BadZipFile,
        EOFError,
        NotImplementedError,  # a damaged archive: "zip file version 6.4", encrypted members
        RuntimeError,
        zlib.error,
    ) as err:
        raise ModelFileError(f"weights file {str(path)!r} is not a readable .npz: {err}") from None
    count = sum(1 for name in arrays if name[:1] == "W" and name[1:].isdigit())
    names = [f"W{l}" for l in range(1, count + 1)]
    if count == 0 or any(name not in arrays for name in names):
        raise ModelFileError(
            f"weights file {str(path)!r} must hold arrays W1..WL numbered from 1; "
            f"it holds {sorted(arrays)}"
        )
    if "activations" not in arrays or arrays["activations"].dtype.kind != "U":
        raise ModelFileError(
            f"weights file {str(path)!r} needs an array 'activations' of {count} names"
        )
    activations = [str(a) for a in np.atleast_1d(arrays["activations"])]
    loss = str(arrays["loss"]) if "loss" in arrays else None
    try:
        return Network.from_weights(
            [arrays[name] for name in names], activations, dtype=dtype, loss=loss
        )
    except ValidationError as err:
        raise ModelFileError(f"weights file {str(path)!r}: {err}") from None


class LoadedNetwork(NamedTuple):
    """A network and the model file it came from (``None`` for bare weights): the model knows
    the standardisation of the inputs and (regression) targets its network was trained with,
    its feature names and its classes, so that data can be read and scaled as it was."""

    net: Network
    model: FittedModel | None = None

    @property
    def standardizer(self) -> Standardizer | None:
        """The model's input standardisation; ``None`` for bare weights or without one."""
        return None if self.model is None else self.model.standardizer

    @property
    def target_scaler(self) -> Standardizer | None:
        """The model's (regression) target scaling; ``None`` for bare weights or without one."""
        return None if self.model is None else self.model.target_scaler


def load_weights_file(path: Path, dtype: str) -> Network:
    """A network from ``path``: an ``.npz`` (see :func:`load_weights_npz`) or a model file."""
    return load_weights_and_scaling(path, dtype).net


def load_weights_and_scaling(path: Path, dtype: str) -> LoadedNetwork:
    """The network of ``path`` and, for a model file, the fitted model it stores: its
    standardisation above all (the network was trained on standardised inputs, so raw data
    must go through it first)."""
    if path.suffix.lower() == ".npz":
        return LoadedNetwork(load_weights_npz(path, dtype))
    from chainrule.fit import FittedModel
    from chainrule.serialization import load_model

    model = load_model(path)
    net = Network.from_weights(
        list(model.weights), list(model.activations), dtype=dtype, loss=model.loss
    )
    return LoadedNetwork(net, FittedModel.from_file(model))


def network_from_args(args: argparse.Namespace) -> LoadedNetwork:
    """The network the options of :func:`add_network_arguments` describe, with the
    standardisation of a ``--weights`` model file (see :func:`load_weights_and_scaling`)."""
    if args.weights is not None:
        if args.sizes is not None or args.activations is not None:
            raise ValidationError("give either --weights or --sizes/--activations, not both")
        loaded = load_weights_and_scaling(args.weights, args.dtype)
    else:
        sizes = args.sizes if args.sizes is not None else parse_sizes(DEFAULT_SIZES)
        activations = args.activations
        if activations is None:
            activations = ["tanh"] * (len(sizes) - 2) + ["softmax"]
        if len(activations) != len(sizes) - 1:
            raise ValidationError(
                f"--activations needs {len(sizes) - 1} names for --sizes "
                f"{','.join(map(str, sizes))}; got {len(activations)}"
            )
        loaded = LoadedNetwork(Network(sizes, activations, seed=args.seed, dtype=args.dtype))
    if args.loss is not None:
        loaded.net.loss = get_loss(args.loss)
    return loaded


def network_loss(net: Network) -> Loss:
    """The loss ``net`` trains with, or a clear error when its output pairs with none."""
    if net.loss is None:
        raise ValidationError(
            f"the output activation {net.activations[-1]!r} has no default loss; "
            f"pass --loss ({', '.join(sorted(LOSSES))})"
        )
    return net.loss


FILE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".json", ".md", ".txt")
"""Suffixes of file names, which a folder option (``--plots``, ``plot -o``) refuses."""


OTHER_FORMAT_SUFFIXES = (".npz", ".npy", ".json", ".onnx")
"""Suffixes of data files and other model formats, which an option that writes a chainrule
model file (safetensors) refuses, besides those of CSV files (see :func:`check_model_output`)."""


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether ``a`` and ``b`` are one existing file (also through links or ``./``)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # either is missing, or not a path at all (a data set's name)
        return False


def check_model_output(path: str | os.PathLike[str] | None, what: str) -> None:
    """Fail before any work when ``path``, where a chainrule model file (safetensors) is to be
    written, names a data file or another format: ``-o data.csv`` would replace the data with
    the model, ``-o model.onnx`` would hold no ONNX that onnxruntime could load."""
    from chainrule.sources import CSV_SUFFIXES  # here: the data layer is no start-up import

    if path is None:
        return
    hint = "; 'chainrule export --format onnx' writes ONNX" if _suffix(path) == ".onnx" else ""
    refuse_suffixes(
        path,
        (*CSV_SUFFIXES, *OTHER_FORMAT_SUFFIXES),
        f"{what} writes a chainrule safetensors file",
        ".safetensors",
        noun="one",
        hint=hint,
    )


def refuse_suffixes(
    path: str | os.PathLike[str],
    refused: Sequence[str],
    writes: str,
    suffix: str,
    *,
    noun: str = "file",
    hint: str = "",
) -> None:
    """Refuse an output ``path`` whose suffix is one of ``refused``: a file of another kind,
    which the output would replace (the data, a model) under a name that says it is not.
    ``writes`` says what the option writes; the message suggests the name with ``suffix``."""
    if _suffix(path) in refused:
        raise ValidationError(
            f"{writes}, not a {_suffix(path)} {noun}; got {os.fspath(path)!r}: give a name such "
            f"as {str(Path(path).with_suffix(suffix))!r}{hint}"
        )


def _suffix(path: str | os.PathLike[str]) -> str:
    return Path(path).suffix.lower()


def check_output_dir(path: str | os.PathLike[str] | None, what: str) -> None:
    """Fail before any work unless ``path`` is a writable folder or one that can be created
    (in a writable folder); nothing is created here."""
    if path is None:
        return
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise ValidationError(f"{what}: {str(target)!r} exists and is not a directory")
    if not target.exists() and target.suffix.lower() in FILE_SUFFIXES:
        # `-o loss.png` would become a folder named loss.png with the figures inside
        raise ValidationError(
            f"{what} names a folder for the files written; got {str(target)!r}, a file name: "
            f"give a folder such as {str(target.with_suffix('')) or 'plots'!r}"
        )
    existing = next(p for p in (target, *target.parents) if p.exists())
    if not existing.is_dir():
        raise ValidationError(f"{what}: {str(existing)!r} is a file, not a directory")
    check_writable_folder(existing, what)


def make_output_dir(path: Path, what: str) -> None:
    """Create the folder ``path`` (checked first by :func:`check_output_dir`)."""
    check_output_dir(path, what)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValidationError(
            f"{what}: cannot create the folder {str(path)!r}: {err.strerror or err}"
        ) from None


def print_json(report: Any) -> None:
    """Print ``report`` as strict JSON (non-finite numbers as ``null``)."""
    print(json.dumps(json_ready(report), indent=1, allow_nan=False))


def check_one_label_per_row(
    model: FittedModel,
    path: str | os.PathLike[str],
    command: str,
    instead: str = "'chainrule predict' gives its decisions",
) -> None:
    """Refuse a multilabel model (one 0/1 decision per label) where one target column per row
    is read: its targets are sets of labels, which no single column holds, so reading DATA
    would end in a puzzling "class never seen". ``instead`` says what to do."""
    if model.multilabel:
        assert model.classes is not None
        raise ValidationError(
            f"{os.fspath(path)} is a multilabel model: it decides each of its labels "
            f"({', '.join(model.classes)}) on its own, while {command} reads one target label "
            f"per row; {instead}"
        )


def note_columns_by_position(
    names: Sequence[str] | None, source: str, delimiter: str | None, command: str, owner: str
) -> None:
    """Say on standard error when the columns of the CSV file ``source`` were taken by
    position although one side names them, as scikit-learn warns: features without names
    (``names`` is ``None`` or ``x1, x2, ...``: an NPZ file, a CSV file without a header) and a
    file whose header names its columns, which may be in another order; or named features and
    a file without a header. Columns matched by name need no word. ``owner`` says whose the
    features are: ``"the model's"``, ``"the training data's"``."""
    from chainrule.datasets.files import (
        default_column_names,
        first_csv_row,
        named_features,
        names_columns,
        quoted,
    )

    path = Path(source).expanduser()  # as the readers expand it
    if _suffix(path) in (".npz", ".npy") or not path.is_file():
        return
    columns, _ = first_csv_row(path, delimiter=delimiter)
    n = len(columns)
    # line 1 names the columns when two of its fields are text (a data row has one at most,
    # its label), as the readers decide; x1, x2, ..., y name them by position anyway
    header = names_columns(columns)
    positional = (default_column_names(n), default_column_names(n, target=False))
    names = named_features(None if names is None else list(names))
    if names is None and header and columns not in positional:
        note = (
            f"{owner} features have no names (from an NPZ file or a CSV file without a "
            f"header), so the columns of {source} are taken by position, not by their names "
            f"{quoted(columns, 8)}: they must be in the training data's order"
        )
    elif names is not None and not header and not set(names) <= set(positional[0]):
        note = (
            f"{source} has no header, so its columns are taken by position as {owner} "
            f"features {quoted(names, 8)}, in this order"
        )
    else:
        return
    print(f"chainrule {command}: note: {note}", file=sys.stderr)
