"""``python -m benchmarks``: run every benchmark and write ``benchmarks/results/latest.{json,md}``.

Options: ``--quick`` (fewer, shorter rounds), ``--workloads W1,W2``, ``--threads 1,2``,
``--no-memory`` (skip the per-process RSS runs), ``--no-extras`` (skip digits, inference, the
playground and the other shapes, which no target names).
"""

from __future__ import annotations

# ``python -m benchmarks`` has run benchmarks/__init__.py before this module, so the OpenBLAS
# variables are already unset when numpy is first imported below.
import argparse
import sys
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.workloads import WORKLOADS

CONTENDERS = ["chainrule", "numpy-ref", "torch", "sklearn", "gemm-only"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (3 rounds of ~0.1 s)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="e.g. W1,W2")
    parser.add_argument("--threads", default="1,2", help="thread counts, e.g. 1,2")
    parser.add_argument("--repeats", type=int, default=None, help="rounds per measurement")
    parser.add_argument("--no-memory", action="store_true", help="skip peak-RSS subprocesses")
    parser.add_argument(
        "--no-extras", action="store_true", help="skip digits/inference/web/other shapes"
    )
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).parent / "results", help="results folder"
    )
    args = parser.parse_args(argv)
    names = [name.strip().upper() for name in args.workloads.split(",") if name.strip()]
    unknown = [name for name in names if name not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; expected some of {list(WORKLOADS)}")
    args.workload_names = names
    args.thread_counts = [int(t) for t in args.threads.split(",")]
    if args.repeats is None:
        args.repeats = 3 if args.quick else 11
    args.seconds = 0.1 if args.quick else 0.4
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    from benchmarks import extras, memory, throughput

    results: dict[str, Any] = {
        "environment": report.environment(),
        "settings": {
            "quick": args.quick,
            "repeats": args.repeats,
            "seconds_per_round": args.seconds,
            "threads": args.thread_counts,
        },
        "training": {},
        "memory": {},
    }
    report.print_environment(results["environment"])
    for threads in args.thread_counts:
        per_workload = results["training"].setdefault(str(threads), {})
        for name in args.workload_names:
            w = WORKLOADS[name]
            print(f"  training {name} ({w.label}) at {threads} thread(s) ...", flush=True)
            per_workload[name] = throughput.measure(
                w, CONTENDERS, threads, args.repeats, args.seconds
            )
        report.print_training(results, threads)
    if not args.no_memory:
        threads = max(args.thread_counts)
        for name in args.workload_names:
            results["memory"][name] = {
                impl: memory.measure_in_subprocess(impl, name, threads)
                for impl in ("chainrule", "numpy-ref", "torch", "sklearn")
            }
        report.print_memory(results)
    if not args.no_extras:
        threads = max(args.thread_counts)
        results["digits"] = extras.digits_time_to_accuracy(threads, quick=args.quick)
        results["inference"] = extras.inference(threads, quick=args.quick)
        results["playground"] = extras.playground(quick=args.quick)
        results["other_shapes"] = extras.other_shapes(threads, quick=args.quick)
        report.print_extras(results)
    report.print_targets(results)
    args.output.mkdir(parents=True, exist_ok=True)
    report.write(results, args.output)
    print(f"wrote {args.output / 'latest.json'} and {args.output / 'latest.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
