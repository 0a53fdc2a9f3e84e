"""``chainrule sweep CONFIG``: a hyper-parameter sweep on Dask distributed (or serially).

Exit status: 0 when every trial finished, 1 when some could not run (re-run to retry them),
2 for bad input (config, scheduler address, results file), 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def seconds(text: str) -> float:
    """``--connect-timeout``: a positive, finite number, checked before any work starts."""
    from chainrule.sweeps.runner import is_seconds

    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not is_seconds(value):
        raise argparse.ArgumentTypeError(
            f"expected a positive, finite number of seconds; got {text!r}"
        )
    return value


def register(subparsers: Any) -> None:
    """Add the ``sweep`` sub-command."""
    from chainrule.cli.common import positive_int

    parser = subparsers.add_parser(
        "sweep",
        help="cross-validate a grid or random search of networks on a Dask cluster",
        description=(
            "Run the search in CONFIG (TOML or YAML), one cross-validated trial per point, on "
            "a local Dask cluster (default) or the one at --scheduler. Each finished trial is "
            "appended to the results file at once; re-running skips finished trials. The best "
            "configuration is retrained on all data and saved as a model file."
        ),
    )
    parser.add_argument("config", metavar="CONFIG", help="sweep config (.toml, .yaml or .yml)")
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="tcp://HOST:PORT of a running Dask scheduler, or 'serial' to run in this process "
        "(default: start a local cluster on 127.0.0.1)",
    )
    parser.add_argument(
        "--results",
        metavar="PATH",
        help="results file, .jsonl or .csv (default: CONFIG's name with .results.jsonl)",
    )
    parser.add_argument(
        "--n-workers",
        type=positive_int,
        default=2,
        metavar="N",
        help="worker processes of the local cluster (default 2)",
    )
    parser.add_argument(
        "--output-model",
        metavar="PATH",
        help="where to save the best model (default: next to the results file)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="how long to try reaching --scheduler (default 10)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the sweep and print its summary; see the module docstring for exit statuses.

    Ctrl-C ends it with one line saying how many trials are kept (status 130, as for any
    interrupted command).
    """
    from chainrule._atomic import check_output_path
    from chainrule.cli.common import check_model_output
    from chainrule.sweeps import SweepInterrupted, sweep

    check_output_path(args.output_model, "--output-model")
    check_model_output(args.output_model, "--output-model")
    try:
        result = sweep(
            args.config,
            scheduler=args.scheduler,
            results=args.results,
            n_workers=args.n_workers,
            output_model=args.output_model,
            connect_timeout=args.connect_timeout,
        )
    except SweepInterrupted as stop:
        print(f"chainrule sweep: interrupted; {stop}", file=sys.stderr)
        return 130
    print(result.summary())
    return 1 if result.unfinished else 0
