"""A model whose output is a McCulloch-Pitts step unit (the playground's hand-wired XOR, saved
as a 0/1 decision) is scored by its decisions: it gives no probabilities, so no log loss."""

from __future__ import annotations

import json
from pathlib import Path

from chainrule.logic import XOR_TABLE, hand_wired_xor
from chainrule.serialization import save_model
from cli_helpers import chainrule


def test_evaluate_scores_a_step_output_by_its_decisions(tmp_path: Path) -> None:
    model = tmp_path / "xor.safetensors"
    save_model(
        model, hand_wired_xor(), loss="binary_cross_entropy", classes=[0, 1], task="classification"
    )
    data = tmp_path / "xor.csv"
    rows = [f"{a},{b},{y}" for (a, b), y in XOR_TABLE.items()]
    data.write_text("\n".join(["x1,x2,y", *rows]) + "\n")
    result = chainrule("evaluate", model, data, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["accuracy"] == 1.0 and report["log_loss"] is None  # the lecture's XOR net
    assert report["confusion_matrix"] == [[2, 0], [0, 2]]
    text = chainrule("evaluate", model, data)
    assert "accuracy 1.0000  log loss none (step units give no probabilities)" in text.stdout
