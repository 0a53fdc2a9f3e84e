"""A core-only install (numpy alone) meets a missing extra with one line naming what to install.

Each case runs the real command in a fresh interpreter in which the extra's packages cannot be
imported, as on a machine where ``pip install chainrule`` installed numpy alone.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BLOCKING_RUNNER = textwrap.dedent(
    """
    import importlib.abc, sys

    BLOCKED = set(sys.argv[1].split(","))

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())
    from chainrule.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


def run_without(blocked: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKING_RUNNER, blocked, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("blocked", "args", "extra"),
    [
        ("uvicorn,starlette", ["playground", "--port", "0"], "web"),
        ("onnx,onnxruntime", ["export", "MODEL", "-o", "m.onnx"], "onnx"),
        ("matplotlib", ["plot", "MODEL", "xor", "-o", "plots"], "plots"),
    ],
)
def test_missing_extra_is_one_line_and_exit_2(
    blocked: str, args: list[str], extra: str, tmp_path: Path
) -> None:
    model = tmp_path / "xor.safetensors"
    made = run_without("", "train", "xor", "--epochs", "2", "-o", str(model), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    args = [str(model) if a == "MODEL" else a for a in args]
    done = run_without(blocked, *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert f"chainrule[{extra}]" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xor.safetensors"]  # nothing written


def test_demo_without_scikit_learn_skips_the_digits_and_finishes(tmp_path: Path) -> None:
    done = run_without("sklearn", "demo", "--quick", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "skipped: data set 'digits' comes from scikit-learn" in done.stdout
    assert "pip install chainrule[data]" in done.stdout
    assert "tour finished" in done.stdout


def test_train_with_plots_but_no_matplotlib_stops_before_training(tmp_path: Path) -> None:
    """It trained the whole run, saved the model without saying so, then stopped on the plots."""
    done = run_without(
        "matplotlib", "train", "xor", "--epochs", "2", "-o", "m.safetensors", "--plots", "p",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "chainrule[plots]" in done.stderr
    assert done.stdout == "" and list(tmp_path.iterdir()) == []  # no training, nothing written
