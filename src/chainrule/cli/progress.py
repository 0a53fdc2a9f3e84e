"""A one-line progress bar for training (standard library only).

On a terminal the line is redrawn in place (``\\r``) at most ten times a second::

    epoch  3/30 [########--------------]  37%   2.1s eta   3.6s  loss 0.1234  acc 0.9500  ...

The bar goes to standard error, as other command-line progress bars do, so that
``chainrule train data.csv > log.txt`` still shows it on the terminal while the results go to the
file. When the stream is not a terminal (a pipe, a file, a test) the bar writes nothing, so logs
and ``--json`` output stay clean.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TYPE_CHECKING, TextIO

from chainrule.engine.callbacks import Callback, format_record

if TYPE_CHECKING:
    from chainrule.engine.training import Trainer


def _duration(seconds: float) -> str:
    """A time to read at a glance: ``7.3s``, ``2m05s``, ``1h02m`` (seconds alone would run to
    ``4312.0s`` in a long run)."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, whole_seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{whole_seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class ProgressBar(Callback):
    """Draws training progress: the epoch, a bar over all planned steps, the latest scores.

    Parameters
    ----------
    stream:
        Where to draw; default ``sys.stderr``.
    enabled:
        ``None`` draws only when ``stream`` is a terminal; ``True``/``False`` force it.
    width:
        Characters of the bar itself.
    interval:
        Seconds between redraws within an epoch.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        enabled: bool | None = None,
        width: int = 24,
        interval: float = 0.1,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.width = width
        self.interval = interval
        self._started = 0.0
        self._start_fraction = 0.0  # of the planned epochs, done before this run began
        self._last_draw = 0.0
        self._scores = ""
        self._drawn = 0

    def _draw(self, trainer: Trainer) -> None:
        planned_epochs = max(trainer.epochs_planned, 1)
        within = trainer.epoch_fraction
        fraction = min((trainer.epoch + within) / planned_epochs, 1.0)
        filled = round(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        digits = len(str(planned_epochs))
        columns = shutil.get_terminal_size((100, 24)).columns
        elapsed = time.perf_counter() - self._started
        # the rest at the pace so far: what a long run's user wants to know (the steps are
        # alike, so the pace of the first ones holds); none before the first step's end
        # (of this run: a resumed run's or a second fit's earlier epochs took no time of it)
        done = fraction - self._start_fraction
        eta = f" eta {_duration(elapsed * (1 - fraction) / done):>6}" if done > 0 else ""
        line = (
            f"epoch {min(trainer.epoch + (within > 0), planned_epochs):{digits}d}/"
            f"{planned_epochs} [{bar}] {fraction:4.0%} {_duration(elapsed):>6}{eta}  "
            f"{self._scores}"
        )
        line = line[: columns - 1]  # a wrapped line could not be redrawn in place
        padding = " " * max(self._drawn - len(line), 0)
        self.stream.write("\r" + line + padding)
        self.stream.flush()
        self._drawn = len(line)
        self._last_draw = time.perf_counter()

    def on_train_begin(self, trainer: Trainer) -> None:
        self._started = time.perf_counter()
        self._start_fraction = min(trainer.epoch / max(trainer.epochs_planned, 1), 1.0)
        if self.enabled:
            self._draw(trainer)

    def on_batch_end(self, trainer: Trainer, loss: float) -> None:
        if self.enabled and time.perf_counter() - self._last_draw >= self.interval:
            self._scores = f"batch loss {loss:.4f}" if not trainer.record.epochs else self._scores
            self._draw(trainer)

    def on_epoch_end(self, trainer: Trainer, record: dict[str, float]) -> None:
        self._scores = format_record(record).replace("accuracy", "acc")
        if self.enabled:
            self._draw(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = 0
