"""The ``chainrule`` command: one sub-command per module in this package.

Each sub-command module defines ``register(subparsers)``, which adds its parser and sets
``func`` to a function ``(args) -> int``. Errors a user can cause end as one line on stderr and
exit status 2; nothing prints a Python traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from chainrule import __version__
from chainrule.errors import ChainruleError

COMMANDS = [
    "chainrule.cli.demo",
    "chainrule.cli.explain",
    "chainrule.cli.gradcheck",
    "chainrule.cli.playground",
    "chainrule.cli.sweep",
    "chainrule.cli.train",
    "chainrule.cli.evaluate",
    "chainrule.cli.predict",
    "chainrule.cli.export",
    "chainrule.cli.datasets",
    "chainrule.cli.plot",
]
"""Sub-command modules, in the order ``chainrule --help`` lists them."""

OPTIONAL_PACKAGES = {
    "sklearn": "sklearn",
    "matplotlib": "plots",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "dask": "dask",
    "distributed": "dask",
    "yaml": "dask",
    "tomli": "dask",
    "starlette": "web",
    "uvicorn": "web",
}
"""Top-level modules of optional dependencies, and the extra that installs each."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"chainrule: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, every sub-command registered."""
    parser = _Parser(
        prog="chainrule",
        description="Multi-layer neural networks trained by back-propagation.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser, required=True
    )
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 failed check, 2 bad input)."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except ChainruleError as err:
        print(f"chainrule {args.command}: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        extra = OPTIONAL_PACKAGES.get((err.name or "").partition(".")[0])
        if extra is None:
            raise
        print(
            f"chainrule {args.command}: error: this needs the optional package {err.name!r}; "
            f"install it with: pip install 'chainrule[{extra}]'",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"chainrule {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
