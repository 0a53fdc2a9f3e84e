"""``chainrule export MODEL --format onnx -o model.onnx``: a model file as an ONNX graph.

The standardisation stored in the model file is part of the graph, so the ONNX model takes raw
features; its output is class probabilities (classifier) or target values (regressor). The file
is written atomically: nothing is written on an error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

FORMATS = ("onnx",)


def register(subparsers: Any) -> None:
    """Add the ``export`` sub-command."""
    parser = subparsers.add_parser(
        "export",
        help="export a model file to ONNX",
        description=(
            "Export MODEL (a chainrule model file) to another format. ONNX: opset 17, input "
            "'input' of shape (N, n_features) in the model's dtype (float32, or float64 for a "
            "model trained with --dtype float64) and in the data's units (the model's "
            "standardisation is in the graph), output 'probabilities' or 'values'."
        ),
    )
    parser.add_argument("model", metavar="MODEL", help="model file written by 'chainrule train'")
    parser.add_argument(
        "--format", choices=FORMATS, default="onnx", help="output format (default: onnx)"
    )
    parser.add_argument(
        "-o", "--output", metavar="PATH", required=True, help="file to write, e.g. model.onnx"
    )
    parser.set_defaults(func=run)


NOT_ONNX_SUFFIXES = (".csv", ".tsv", ".txt", ".npz", ".npy", ".json", ".safetensors")
"""Suffixes of data files and chainrule's model files: ``-o`` with one of them would replace
such a file (the training data, a model) with an ONNX graph that nothing reads under that name."""


def run(args: argparse.Namespace) -> int:
    """Write the exported model and say where."""
    from chainrule._atomic import check_output_path
    from chainrule.cli.common import refuse_suffixes, same_file

    check_output_path(args.output, "--output")
    if not same_file(args.output, args.model):  # export_onnx says "the model file itself"
        refuse_suffixes(
            args.output, NOT_ONNX_SUFFIXES, "--output: export writes an ONNX graph", ".onnx"
        )
    from chainrule.serialization.onnx_export import export_onnx  # after the checks: onnx is slow

    model = export_onnx(args.model, args.output)
    output = model.graph.output[0]
    dims = [d.dim_param or d.dim_value for d in output.type.tensor_type.shape.dim]
    print(
        f"wrote {args.output}: ONNX opset {model.opset_import[0].version}, "
        f"output {output.name!r} of shape ({', '.join(map(str, dims))})",
        file=sys.stdout,
    )
    return 0
