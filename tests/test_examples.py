"""Every script in examples/ runs to the end, as a reader would run it."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


def python(*args: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """This interpreter run with ``args`` in ``cwd``, as a reader's shell would run it."""
    return subprocess.run(
        [sys.executable, *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path, tmp_path: Path) -> None:
    done = python("-W", "error::RuntimeWarning", str(script), cwd=tmp_path, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir()), "examples must not write into the working directory"


README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", README.read_text(), re.MULTILINE | re.DOTALL)


PYTHON_BLOCKS = _readme_blocks("python")


@pytest.mark.parametrize(
    "code", PYTHON_BLOCKS, ids=[f"block{i}" for i in range(len(PYTHON_BLOCKS))]
)
def test_readme_python_block_runs_on_its_own(code: str, tmp_path: Path) -> None:
    """A reader pastes one block of the README into a fresh interpreter: it must run."""
    pytest.importorskip("sklearn")
    pytest.importorskip("onnx")
    done = python("-c", code, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr


def test_readme_command_line_shows_every_sub_command() -> None:
    from chainrule.cli import COMMANDS

    shown = "\n".join(_readme_blocks("sh"))
    missing = [
        name.rpartition(".")[2]
        for name in COMMANDS
        if not re.search(rf"^chainrule {name.rpartition('.')[2]}\b", shown, re.MULTILINE)
    ]
    assert not missing, f"the README's command line never shows: {missing}"


def test_the_xor_example_does_not_call_the_flat_nets_ties_learnt(tmp_path: Path) -> None:
    """It printed "no hidden layer, accuracy: 0.75": three of four points, seemingly, for a net
    that ends at P(Y = 1 | x) = 1/2 on every point (the cross-entropy optimum without a hidden
    layer, loss ln 2), whose argmax "accuracy" only counts ties broken by rounding."""
    script = next(path for path in EXAMPLES if path.name == "xor.py")
    done = python(str(script), cwd=tmp_path, timeout=180)
    assert done.returncode == 0, done.stderr
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("no hidden layer"))
    assert "accuracy" not in line
    loss = re.search(r"loss (\d\.\d+)", line)
    probabilities = re.search(r"P\(Y = 1 \| x\) = \[([^]]*)\]", line)
    assert loss is not None and probabilities is not None, line
    assert float(loss.group(1)) == pytest.approx(math.log(2), abs=1e-4)
    assert [float(p) for p in probabilities.group(1).split()] == [0.5] * 4
