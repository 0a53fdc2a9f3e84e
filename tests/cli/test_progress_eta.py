"""The progress bar's time left: a run of minutes says how long it will still take, at the
pace of the steps so far, in minutes and hours once seconds would be hard to read."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from chainrule.cli import progress
from chainrule.cli.progress import ProgressBar


def _frame_at(
    monkeypatch: pytest.MonkeyPatch, elapsed: float, epoch: int, within: float, start: int = 0
) -> str:
    """The line drawn ``elapsed`` seconds into a 4-epoch run begun at epoch ``start`` (a resumed
    run), ``within`` into epoch ``epoch``."""
    monkeypatch.setenv("COLUMNS", "200")
    now = [1000.0]
    monkeypatch.setattr(progress, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    stream = io.StringIO()
    bar = ProgressBar(stream, enabled=True, interval=0.0)
    trainer = SimpleNamespace(
        epoch=start, epoch_fraction=0.0, epochs_planned=4, record=SimpleNamespace(epochs=[])
    )
    bar.on_train_begin(trainer)  # type: ignore[arg-type]
    now[0] += elapsed
    trainer.epoch, trainer.epoch_fraction = epoch, within
    bar.on_batch_end(trainer, 0.5)  # type: ignore[arg-type]
    return stream.getvalue().split("\r")[-1]


@pytest.mark.parametrize(
    ("elapsed", "epoch", "within", "shown", "left"),
    [
        (10.0, 1, 0.0, "10.0s", "30.0s"),  # a quarter done in 10 s: 30 s to go
        (90.0, 0, 0.5, "1m30s", "10m30s"),  # an eighth in 90 s: 630 s to go
        (3000.0, 2, 0.0, "50m00s", "50m00s"),
        (4000.0, 1, 0.0, "1h06m", "3h20m"),  # 12,000 s to go
    ],
)
def test_the_bar_shows_the_time_left_at_the_pace_so_far(
    monkeypatch: pytest.MonkeyPatch,
    elapsed: float,
    epoch: int,
    within: float,
    shown: str,
    left: str,
) -> None:
    """Before, the bar showed the seconds elapsed only ("4000.0s"), never how long to wait."""
    line = _frame_at(monkeypatch, elapsed, epoch, within)
    done = (epoch + within) / 4
    assert f"{done:4.0%} {shown:>6} eta {left:>6}  batch loss 0.5000" in line, line


def test_no_time_left_is_guessed_before_the_first_step(monkeypatch: pytest.MonkeyPatch) -> None:
    line = _frame_at(monkeypatch, 0.0, 0, 0.0)
    assert "eta" not in line and "0%" in line


def test_a_resumed_run_counts_its_own_pace_not_the_epochs_done_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Resumed at epoch 2 of 4, one epoch in 10 s leaves one more: 10 s, not the 3.3 s that
    dividing by all three epochs done would give."""
    line = _frame_at(monkeypatch, 10.0, 3, 0.0, start=2)
    assert " 75%  10.0s eta  10.0s" in line, line
    assert "eta" not in _frame_at(monkeypatch, 0.0, 2, 0.0, start=2)
