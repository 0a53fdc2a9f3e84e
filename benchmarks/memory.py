"""Peak resident memory of one implementation, measured in a fresh process of its own.

``python -m benchmarks.memory IMPL WORKLOAD THREADS`` trains two epochs and prints JSON: the peak
RSS, the data's size, and the difference (what the implementation itself costs: interpreter,
libraries, weights, buffers, temporaries). The peak is ``VmHWM`` from ``/proc/self/status``, the
high-water mark of this process's own address space: ``ru_maxrss`` would do elsewhere, but Linux
carries it across ``execve``, so a child started by a large parent reports the parent's peak.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from typing import Any

from benchmarks import json_from_fresh_interpreter

MIB = 1024 * 1024


def measure_in_subprocess(impl: str, workload: str, threads: int) -> dict[str, Any]:
    """Run this module for one implementation in a new interpreter and return its JSON."""
    return json_from_fresh_interpreter("-m", "benchmarks.memory", impl, workload, str(threads))


def peak_rss_bytes() -> int:
    """This process's peak resident set size (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def main(argv: list[str]) -> None:
    impl_name, workload_name, threads = argv[0], argv[1], int(argv[2])
    from benchmarks.implementations import IMPLEMENTATIONS
    from benchmarks.throughput import set_threads
    from benchmarks.workloads import WORKLOADS

    w = WORKLOADS[workload_name]
    X, y = w.data()
    with set_threads(threads, torch_too=impl_name == "torch"):
        impl = IMPLEMENTATIONS[impl_name](w, X, y)
        for _ in range(2):
            impl.run_epoch()
    peak = peak_rss_bytes()
    data = X.nbytes + y.nbytes
    print(
        json.dumps(
            {
                "peak_rss_mib": peak / MIB,
                "data_mib": data / MIB,
                "peak_rss_minus_data_mib": (peak - data) / MIB,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
