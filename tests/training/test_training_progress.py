"""The progress bar: live on a terminal, silent otherwise."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np

from chainrule.cli.progress import ProgressBar
from chainrule.engine.network import Network
from chainrule.engine.training import Trainer


def run_with(bar, epochs=3):
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    trainer = Trainer(
        Network([2, 4, 2], ["tanh", "softmax"], seed=0),
        X,
        y,
        batch_size=4,
        callbacks=[bar],
        validation_data=(X, y),
    )
    trainer.fit(epochs)
    return trainer


def test_bar_redraws_in_place_with_the_scores(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    stream = io.StringIO()
    trainer = run_with(ProgressBar(stream, enabled=True, interval=0.0))
    text = stream.getvalue()
    frames = text.split("\r")[1:]
    assert len(frames) > 3 and text.endswith("\n")
    assert (
        "epoch 3/3" in frames[-1]
        and "100%" in frames[-1]
        and f"val_acc {trainer.record.last['val_accuracy']:.4f}" in frames[-1]
    )
    assert "[" + "#" * 24 + "]" in frames[-1]
    assert frames[0].startswith("epoch 0/3 [" + "-" * 24 + "]")


def test_bar_fits_the_terminal_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    stream = io.StringIO()
    run_with(ProgressBar(stream, enabled=True, interval=0.0))
    assert max(len(frame) for frame in stream.getvalue().strip().split("\r")) <= 59


def test_bar_is_silent_when_not_a_terminal():
    stream = io.StringIO()
    run_with(ProgressBar(stream))
    assert stream.getvalue() == ""


def test_cli_bar_is_live_on_the_terminal_while_the_results_go_to_a_file(tmp_path):
    """``chainrule train d.csv > log``: the bar is drawn on standard error, a terminal here,
    and the results reach the redirected standard output without it."""
    path = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    np.savetxt(path, np.column_stack([X, X[:, 0] > 0]), delimiter=",", fmt="%.5f")
    primary, secondary = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "chainrule", "train", str(path), "--epochs", "3"],
        stdout=subprocess.PIPE,
        stderr=secondary,
        close_fds=True,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # EIO: the terminal closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert process.wait(timeout=60) == 0
    assert process.stdout is not None
    results = process.stdout.read().decode()
    process.stdout.close()
    terminal = b"".join(chunks).decode()
    assert "\r" in terminal and "epoch 3/3 [" in terminal
    assert "trained d.csv" in results and "epoch 3/3 [" not in results and "\r" not in results
