"""The environment, the printed tables, the target check and the JSON/Markdown files."""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path
from typing import Any

import benchmarks

TORCH_TARGETS = {"W1": 5.0, "W2": 3.5, "W3": 1.4, "W4": 1.2}
SKLEARN_TARGETS = {"W1": 1.5, "W2": 1.5, "W3": 1.5, "W4": 1.0}
GEMM_TARGET = {"W4": 0.9}
RSS_LIMIT_MIB = 80.0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict[str, Any]:
    """Date, machine, library versions and the BLAS numpy runs (threadpoolctl)."""
    import numpy as np
    import threadpoolctl

    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for module in ("torch", "sklearn", "onnxruntime"):
        try:
            versions[module] = __import__(module).__version__
        except ImportError:
            versions[module] = None
    blas = [
        {key: info.get(key) for key in ("internal_api", "version", "architecture", "filepath")}
        for info in threadpoolctl.threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "versions": versions,
        "blas": blas,
        "unset_environment": sorted(benchmarks.UNSET),
    }


def _owner(blas: dict[str, Any]) -> str:
    """Which package a loaded BLAS library came with, from its path (numpy.libs, scipy.libs)."""
    path = str(blas.get("filepath") or "")
    for package in ("numpy", "scipy", "torch", "sklearn"):
        if f"/{package}" in path:
            return f"of {package}"
    return "(" + path.rsplit("/", 1)[-1] + ")"


def print_environment(env: dict[str, Any]) -> None:
    print(f"chainrule benchmarks, {env['date']}: {env['cpu']}, {env['cores']} cores")
    print("  " + ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v))
    for b in env["blas"]:
        print(f"  BLAS {_owner(b)}: {b['internal_api']} {b['version']}, kernel {b['architecture']}")
    unset = ", ".join(env["unset_environment"]) or "neither was set"
    print(
        "  OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset in this process and its "
        f"subprocesses ({unset})"
    )
    print(f"  load average at start: {', '.join(f'{x:.2f}' for x in env['load_average'])}")


def _training_rows(results: dict[str, Any], threads: int) -> list[list[str]]:
    rows = []
    for name, m in results["training"][str(threads)].items():
        impls, ratios = m["implementations"], m["ratios"]
        gemm = impls["gemm-only"]["gflops"]
        cr = impls["chainrule"]
        rows.append(
            [
                name,
                f"{cr['samples_per_s']:,.0f}",
                f"{impls['numpy-ref']['samples_per_s']:,.0f}",
                f"{impls['torch']['samples_per_s']:,.0f}",
                f"{impls['sklearn']['samples_per_s']:,.0f}",
                f"{ratios['chainrule/torch']:.2f}x",
                f"{ratios['chainrule/numpy-ref']:.2f}x",
                f"{ratios['chainrule/sklearn']:.2f}x",
                f"{cr['gflops']:.1f} / {gemm:.1f} ({cr['gflops'] / gemm:.0%}; best round "
                f"{impls['gemm-only'].get('best_round_gflops', gemm):.1f})",
            ]
        )
    return rows


TRAINING_HEADER = [
    "workload",
    "chainrule samples/s",
    "numpy-ref",
    "torch",
    "sklearn",
    "vs torch",
    "vs numpy-ref",
    "vs sklearn",
    "GFLOP/s vs GEMM-only (median rounds)",
]


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _plain_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  " + "  ".join(cell.rjust(width) for cell, width in zip(r, widths, strict=True))
        for r in [header, *rows]
    )


def _cpu_rows(results: dict[str, Any], threads: int) -> list[list[str]]:
    return [
        [name] + [f"{m['ratios_cpu_time'][f'chainrule/{o}']:.2f}x" for o in CPU_OTHERS]
        for name, m in results["training"][str(threads)].items()
    ]


CPU_OTHERS = ["torch", "numpy-ref", "sklearn"]
CPU_HEADER = ["workload", *[f"vs {o} (CPU time)" for o in CPU_OTHERS]]


def print_training(results: dict[str, Any], threads: int) -> None:
    print(f"\ntraining throughput, {threads} thread(s), median samples/s (ratios: chainrule/x)")
    print(_plain_table(TRAINING_HEADER, _training_rows(results, threads)))
    print("the same ratios from CPU time, which leaves out waiting for a core on a loaded machine")
    print(_plain_table(CPU_HEADER, _cpu_rows(results, threads)))
    print()


MEMORY_IMPLS = ["chainrule", "numpy-ref", "torch", "sklearn"]


def _memory_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, per_impl in results["memory"].items():
        data = per_impl["chainrule"]["data_mib"]
        rows.append(
            [name, f"{data:.1f}"]
            + [f"{per_impl[i]['peak_rss_minus_data_mib']:.0f}" for i in MEMORY_IMPLS]
        )
    return rows


MEMORY_HEADER = ["workload", "data MiB", *[f"{i} MiB" for i in MEMORY_IMPLS]]


def print_memory(results: dict[str, Any]) -> None:
    print("peak RSS minus data, one fresh process per implementation (VmHWM)")
    print(_plain_table(MEMORY_HEADER, _memory_rows(results)))
    print()


def _extras_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    digits = results.get("digits")
    if digits:
        lines.append(
            f"digits to {digits['target_accuracy']:.0%} test accuracy "
            f"({digits['architecture']}, Adam lr {digits['learning_rate']}, batch "
            f"{digits['batch_size']}), seconds end to end (epochs):"
        )
        for impl, r in digits["implementations"].items():
            reached = "" if r["reached"] else " (not reached)"
            lines.append(f"  {impl}: {r['seconds']:.2f} s ({r['epochs']} epochs){reached}")
    inference = results.get("inference")
    if inference:
        lines.append(
            f"inference, predict_proba of {inference['architecture']}, samples/s "
            f"(onnx graph: {inference['onnx_source']}):"
        )
        for batch, per_impl in inference["batches"].items():
            cells = ", ".join(f"{i} {v:,.0f}" for i, v in per_impl.items())
            lines.append(f"  batch {batch}: {cells}")
    playground = results.get("playground")
    if playground:
        lines.append(f"playground: {playground['note']}")
    shapes = results.get("other_shapes")
    if shapes:
        lines.append("other shapes, no target: chainrule vs PyTorch, samples/s (plain SGD):")
        for name, r in shapes.items():
            speed = r["samples_per_s"]
            lines.append(
                f"  {name} {r['label']} ({r['title']}): chainrule {speed['chainrule']:,.0f}, "
                f"torch {speed['torch']:,.0f}: {r['vs_torch']:.2f}x"
            )
    return lines


def print_extras(results: dict[str, Any]) -> None:
    print("\n".join(_extras_lines(results)))
    print()


def _training_checks(results: dict[str, Any], threads: str) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    for name, m in results["training"][threads].items():
        ratios, impls = m["ratios"], m["implementations"]
        quartiles = m.get("ratio_quartiles", {})
        for other, target, title in (
            ("torch", TORCH_TARGETS[name], "PyTorch"),
            ("numpy-ref", 1.0, "numpy reference"),
            ("sklearn", SKLEARN_TARGETS[name], "scikit-learn per epoch"),
        ):
            key = f"chainrule/{other}"
            check = {
                "target": f"{name} >= {target}x {title}",
                "value": ratios[key],
                "met": ratios[key] >= target,
            }
            if key in quartiles:
                check["quartiles"] = quartiles[key]
            if other == "torch" and "gemm_ceiling_vs_torch" in m:
                check["gemm_ceiling"] = m["gemm_ceiling_vs_torch"]
            checks.append(check)
        if name in GEMM_TARGET:
            share = impls["chainrule"]["gflops"] / impls["gemm-only"]["gflops"]
            checks.append(
                {
                    "target": f"{name} >= {GEMM_TARGET[name]:.0%} of float32 GEMM throughput",
                    "value": share,
                    "met": share >= GEMM_TARGET[name],
                }
            )
    return checks


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 6 with the measured value and whether it is met.

    Speed targets are judged at the largest thread count measured (the issue's 2 threads); each
    also carries its value at the other thread counts (``at_threads``).
    """
    checks: list[dict[str, Any]] = []
    if results["training"]:
        counts = sorted(results["training"], key=int)
        per_count = {t: _training_checks(results, t) for t in counts}
        for i, check in enumerate(per_count[counts[-1]]):
            check["threads"] = int(counts[-1])
            check["at_threads"] = {t: per_count[t][i]["value"] for t in counts[:-1]}
            checks.append(check)
    for name, per_impl in results["memory"].items():
        if name != "W4":
            value = per_impl["chainrule"]["peak_rss_minus_data_mib"]
            checks.append(
                {
                    "target": f"{name} peak RSS minus data < {RSS_LIMIT_MIB:.0f} MiB",
                    "value": value,
                    "met": value < RSS_LIMIT_MIB,
                }
            )
    digits = results.get("digits")
    if digits:
        times = {
            i: r["seconds"] if r["reached"] else float("inf")
            for i, r in digits["implementations"].items()
        }
        others = min(t for i, t in times.items() if i != "chainrule")
        checks.append(
            {
                "target": "digits to 97% faster than scikit-learn and PyTorch",
                "value": others / times["chainrule"],
                "met": times["chainrule"] < others,
            }
        )
    return checks


def _value(check: dict[str, Any]) -> str:
    text = f"{check['value']:.3g}"
    if "quartiles" in check:
        q1, _, q3 = check["quartiles"]
        text += f" (rounds' middle half {q1:.3g}-{q3:.3g})"
    if "gemm_ceiling" in check:
        text += f", GEMM-only ceiling {check['gemm_ceiling']:.3g}"
    if "threads" in check:
        others = ", ".join(f"{t} thread(s): {v:.3g}" for t, v in check["at_threads"].items())
        text += f" at {check['threads']} threads" + (f" ({others})" if others else "")
    return text


def print_targets(results: dict[str, Any]) -> None:
    print("targets (issue 6; speed judged at the largest thread count):")
    for check in targets(results):
        print(f"  [{'met ' if check['met'] else 'MISS'}] {check['target']}: {_value(check)}")


def write(results: dict[str, Any], folder: Path) -> None:
    """``latest.json`` (everything) and ``latest.md`` (the tables, for the README)."""
    results = {**results, "targets": targets(results)}
    (folder / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    env = results["environment"]
    blas = "; ".join(
        f"{_owner(b)} {b['internal_api']} {b['version']} ({b['architecture']})" for b in env["blas"]
    )
    parts = [
        f"Measured {env['date'][:10]} on {env['cpu']}, {env['cores']} cores "
        f"(load average at start {env['load_average'][0]:.1f}); BLAS: {blas}; "
        "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for the run. "
        "Ratios are chainrule's speed over the other's, medians of rounds that alternate "
        "the implementations in one run; the targets table gives the middle half of the "
        "per-round ratios. GEMM-only times only the matrix products of a step (the ceiling "
        "of any numpy MLP), its median round like every other figure.",
    ]
    for threads in results["training"]:
        parts.append(f"\n**Training, {threads} thread(s)** (samples/s, float32, plain SGD)\n")
        parts.append(_markdown_table(TRAINING_HEADER, _training_rows(results, int(threads))))
        parts.append("\nThe same ratios from CPU time (leaves out waiting for a core):\n")
        parts.append(_markdown_table(CPU_HEADER, _cpu_rows(results, int(threads))))
    if results["memory"]:
        parts.append("\n**Peak RSS minus data** (one fresh process per implementation)\n")
        parts.append(_markdown_table(MEMORY_HEADER, _memory_rows(results)))
    extras = _extras_lines(results)
    if extras:
        parts.append("\n```\n" + "\n".join(extras) + "\n```")
    checks = results["targets"]
    if checks:
        parts.append("\n**Targets**\n")
        parts.append(
            _markdown_table(
                ["target", "measured", "met"],
                [[c["target"], _value(c), "yes" if c["met"] else "no"] for c in checks],
            )
        )
    (folder / "latest.md").write_text("\n".join(parts) + "\n")
