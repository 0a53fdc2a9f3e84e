"""``chainrule demo`` through the real command line: every section, a seed count, the time, and
nothing written outside --output-dir."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from chainrule.cli.demo import SECTIONS
from cli_helpers import chainrule


def run_demo(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.perf_counter()
    result = chainrule("demo", *args, cwd=cwd)
    return result, time.perf_counter() - start


@pytest.fixture(scope="module")
def full_demo(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("cwd")
    out = tmp_path_factory.mktemp("parent") / "tour"
    result, seconds = run_demo("--output-dir", str(out), cwd=cwd)
    return result, seconds, cwd, out


def test_demo_shows_every_section_in_under_a_minute(full_demo) -> None:
    result, seconds, _, _ = full_demo
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    text = result.stdout
    positions = [text.index(f"{n}. {s.title}") for n, s in enumerate(SECTIONS, start=1)]
    assert positions == sorted(positions)
    assert "OR = u(x1 + x2 - 0.5)" in text and "AND = u(x1 + x2 - 1.5)" in text
    assert "0 < 0" in text and "certificate checked in exact integer arithmetic: valid" in text
    assert "equals XOR on all four inputs: True" in text
    count = re.search(r"seeds 0\.\.99: (\d+) of 100 reach 100%", text)
    assert count and int(count.group(1)) >= 95
    assert "dL/de_j^(1)" in text and "3.04859" in text  # the worked example's trace
    accuracy = re.search(r"accuracy: ([\d.]+)% on the training points", text)
    assert accuracy and float(accuracy.group(1)) > 90
    assert seconds < 60


def test_demo_writes_only_inside_the_output_directory(full_demo) -> None:
    _, _, cwd, out = full_demo
    assert list(cwd.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == ["worked_example.json", "worked_example.md"]
    trace = json.loads((out / "worked_example.json").read_text())
    assert trace["x"] == [[1.5]] and trace["y"] == [0]
    assert r"\sum_k w_{1k}^{(1)} h_k^{(0)}" in (out / "worked_example.md").read_text()


def test_quick_demo_without_output_dir_writes_nothing(tmp_path: Path) -> None:
    result, _ = run_demo("--quick", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "seeds 0..19:" in result.stdout and "wrote" not in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_output_dir_that_is_a_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result, _ = run_demo("--output-dir", str(tmp_path / "file"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "not a directory" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs a read-only /sys")
def test_output_dir_that_cannot_be_created_is_one_clear_error(tmp_path: Path) -> None:
    result, _ = run_demo("--quick", "--output-dir", "/sys/chainrule-demo", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "--output-dir" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_the_units_the_perceptron_finds_compute_their_gates_and_the_text_reads_on() -> None:
    """Section 2 printed "XOR is not: one unit ... would need" straight above "no weights
    (w, b) satisfy all of:", a sentence that does not join up, and gave OR the unit
    u(x1 + x2) right after section 1's u(x1 + x2 - 0.5) without saying that both are right."""
    import io
    from contextlib import redirect_stdout

    from chainrule.cli.demo import Tour, xor_impossible

    out = io.StringIO()
    with redirect_stdout(out):
        xor_impossible(Tour(output_dir=None, quick=True))
    lines = out.getvalue().splitlines()
    gates = {"OR": lambda a, b: a or b, "AND": lambda a, b: a and b}
    for name, truth in gates.items():
        line = next(ln for ln in lines if ln.startswith(f"{name} is linearly separable"))
        formula = re.search(r"finds u\((.*)\)$", line)
        assert formula is not None, line
        expression = re.sub(r"(\d)x", r"\1*x", formula.group(1))  # "2x1" -> "2*x1"
        for a in (0, 1):
            for b in (0, 1):  # u(e) = 1 if e > 0, the lecture's step, by hand
                fires = eval(expression, {}, {"x1": a, "x2": b}) > 0
                assert fires == bool(truth(a, b)), (name, a, b, formula.group(1))
    assert any("many units compute each gate" in ln for ln in lines)
    before = lines[lines.index("no weights (w, b) satisfy all of:") - 1]
    assert before.endswith(", but"), before
