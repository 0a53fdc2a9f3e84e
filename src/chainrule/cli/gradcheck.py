"""``chainrule gradcheck``: back-propagation against central finite differences, per layer.

    chainrule gradcheck --sizes 2,8,3 --activations tanh,softmax --batch 8 --seed 0
    chainrule gradcheck --weights net.npz --data points.csv

Exit status 0 when every layer passes, 1 when one fails, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from chainrule.cli.common import (
    add_network_arguments,
    check_one_label_per_row,
    network_from_args,
    network_loss,
    note_columns_by_position,
    positive_float,
    positive_int,
)
from chainrule.engine.gradcheck import gradcheck
from chainrule.engine.losses import Loss
from chainrule.engine.network import Network
from chainrule.errors import ValidationError

if TYPE_CHECKING:
    from chainrule.fit import FittedModel


def register(subparsers: Any) -> None:
    """Add the ``gradcheck`` sub-command."""
    parser = subparsers.add_parser(
        "gradcheck",
        help="compare back-propagation with finite differences",
        description="Compare every dL/dw from back-propagation with a central finite "
        "difference (L(w + eps) - L(w - eps)) / (2 eps), layer by layer, on a random batch or "
        "the first rows of a data file. Exit status 1 if any layer fails.",
    )
    add_network_arguments(
        parser,
        "; the check itself always runs in float64 (finite differences need its precision): "
        "float32 rounds the weights to float32 first",
    )
    parser.add_argument(
        "--batch", type=positive_int, default=8, help="tokens in the batch (default 8)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        metavar="FILE",
        help="a .csv/.tsv/.txt (target in the last column) or .npz (X, y) data file: its "
        "first --batch rows are the batch (default: a random batch drawn with --seed); with "
        "--weights MODEL, read as 'chainrule evaluate' reads it (the model's columns by name)",
    )
    parser.add_argument("--eps", type=positive_float, default=1e-6, help="default 1e-6")
    parser.add_argument("--rtol", type=positive_float, default=1e-6, help="default 1e-6")
    parser.add_argument("--atol", type=positive_float, default=1e-8, help="default 1e-8")
    parser.add_argument(
        "--max-checks",
        type=positive_int,
        default=200,
        help="weights checked per layer, a random sample in larger layers (default 200)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def random_batch(
    n_inputs: int, n_outputs: int, loss: Loss, n: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[Any]]:
    """``n`` standard-normal tokens and random targets of the kind ``loss`` needs."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_inputs))
    if loss.name == "cross_entropy":
        return X, rng.integers(0, n_outputs, size=n)
    if loss.name == "binary_cross_entropy":
        return X, rng.integers(0, 2, size=(n, n_outputs)).astype(np.float64)
    return X, rng.standard_normal((n, n_outputs))


def data_batch(
    path: Path, n: int, model: FittedModel | None = None
) -> tuple[NDArray[np.float64], NDArray[Any]]:
    """The first ``n`` rows of a CSV or NPZ data file, features and targets.

    With ``model`` (``--weights`` a model file) they are read as ``evaluate`` reads them: the
    features picked by the model's names in its order, the labels as the model's class codes
    and a regression target as numbers. Read on their own, a file's columns in another order,
    or labels of other classes, would be checked as numbers the network never learnt from.
    """
    from chainrule.sources import CSV_SUFFIXES, read_dataset, read_for_model

    if path.suffix.lower() not in (*CSV_SUFFIXES, ".npz"):
        raise ValidationError(f"--data must be a .csv, .tsv, .txt or .npz file; got {str(path)!r}")
    if model is not None:
        X, y = read_for_model(model, path, need_target=True)
        assert y is not None  # need_target=True
        note_columns_by_position(
            model.named_features(), str(path), None, "gradcheck", "the model's"
        )
        return X[:n], y[:n]
    dataset = read_dataset(path)
    return dataset.X[:n], dataset.y[:n]


def _check_batch(net: Network, loss: Loss, X: NDArray[Any], y: NDArray[Any], path: Path) -> None:
    """The ``--data`` batch must fit the network: one column per input, targets of its loss.

    Checked here so that the message names the option and the file; the engine's own check
    speaks of arrays (``X has 3 features``) the user never typed.
    """
    if X.ndim == 2 and X.shape[1] != net.sizes[0]:
        where = " (the last column is the target)" if path.suffix.lower() != ".npz" else ""
        raise ValidationError(
            f"--data {str(path)!r} has {X.shape[1]} feature column"
            f"{'' if X.shape[1] == 1 else 's'}{where} but the network takes "
            f"{net.sizes[0]} inputs"
        )
    try:
        net.check_targets(y, len(X), loss)
    except ValidationError as err:
        raise ValidationError(f"--data {str(path)!r}, target column: {err}") from None


def run(args: argparse.Namespace) -> int:
    """Run the check, print the report; 1 when it fails."""
    if not 0 < args.eps < 1:  # central differences 2 eps wide, as the engine checks
        raise ValidationError(f"--eps must be in (0, 1); got {args.eps:g}")
    loaded = network_from_args(args)
    net = loaded.net
    loss = network_loss(net)
    if args.data is not None:
        if loaded.model is not None:
            check_one_label_per_row(
                loaded.model, args.weights, "--data", "leave --data out to check a random batch"
            )
        X, y = data_batch(args.data, args.batch, loaded.model)
        _check_batch(net, loss, X, y, args.data)
        # a model file's network was trained on standardised data: check it where it works
        if loaded.standardizer is not None:
            X = loaded.standardizer.transform(X)
            if not args.json:
                print(f"{args.data}: standardised with the model's stored statistics")
        if loaded.target_scaler is not None:
            y = loaded.target_scaler.transform(y.reshape(-1, 1)).ravel()
    else:
        X, y = random_batch(net.sizes[0], net.sizes[-1], loss, args.batch, args.seed)
    with np.errstate(under="ignore"):  # exp(-large) -> 0 is the exact answer
        report = gradcheck(
            net,
            X,
            y,
            loss,
            eps=args.eps,
            rtol=args.rtol,
            atol=args.atol,
            max_checks_per_layer=args.max_checks,
            seed=args.seed,
        )
    print(report.to_json() if args.json else report)
    return 0 if report.passed else 1
