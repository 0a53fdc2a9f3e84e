"""``chainrule datasets``: the built-in data sets, with their sizes."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``datasets`` sub-command."""
    parser = subparsers.add_parser(
        "datasets",
        help="list the built-in data sets with their sizes",
        description="List the names 'chainrule train' accepts instead of a file.",
    )
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the table (or JSON)."""
    from chainrule.datasets import available

    infos = available()
    if args.json:
        print(json.dumps([info._asdict() for info in infos], indent=1))
        return 0
    header = ("name", "samples", "features", "classes", "task", "description")
    rows = [
        (
            i.name,
            str(i.n_samples),
            str(i.n_features),
            str(i.n_classes or "-"),
            i.task,
            i.description,
        )
        for i in infos
    ]
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(5)]
    for row in [header, *rows]:
        print("  ".join(f"{v:<{w}}" for v, w in zip(row[:5], widths, strict=True)) + "  " + row[5])
    return 0
