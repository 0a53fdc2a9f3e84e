"""A one-line progress bar for training (standard library only).

On a terminal the line is redrawn in place (``\\r``) at most ten times a second::

    epoch  3/30 [########--------------]  37%   2.1s  loss 0.1234  acc 0.9500  val_loss ...

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
        line = (
            f"epoch {min(trainer.epoch + (within > 0), planned_epochs):{digits}d}/"
            f"{planned_epochs} [{bar}] {fraction:4.0%} "
            f"{time.perf_counter() - self._started:5.1f}s  {self._scores}"
        )
        line = line[: columns - 1]  # a wrapped line could not be redrawn in place
        padding = " " * max(self._drawn - len(line), 0)
        self.stream.write("\r" + line + padding)
        self.stream.flush()
        self._drawn = len(line)
        self._last_draw = time.perf_counter()

    def on_train_begin(self, trainer: Trainer) -> None:
        self._started = time.perf_counter()
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
