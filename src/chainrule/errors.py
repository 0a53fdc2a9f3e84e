"""The exception types chainrule raises on purpose.

Every error a user can cause (bad arguments, bad data, a bad file, a run that diverged) ends in one
of these, with a message that names the problem: the argument or the file, the row and column,
what was expected and what was got. Catch :class:`ChainruleError` to catch them all.
"""

from __future__ import annotations


class ChainruleError(Exception):
    """Base class of every error chainrule raises on purpose."""


class ValidationError(ChainruleError, ValueError):
    """An argument or an array is not what the function needs (shape, dtype, range, value)."""


class DataError(ChainruleError, ValueError):
    """A data file or data set cannot be read: names the file, row and column where it can."""


class DownloadError(DataError):
    """A data set could not be downloaded or failed its checksum."""


class ModelFileError(ChainruleError, ValueError):
    """A model or checkpoint file is truncated, garbage, tampered with or of another version."""


class DivergenceError(ChainruleError, FloatingPointError):
    """Training produced a non-finite loss or weights; the last finite weights were restored.

    Attributes
    ----------
    epoch, step:
        Where the non-finite value first appeared (0-based epoch, global step).
    history:
        The per-epoch losses completed before divergence.
    cause:
        What became non-finite, without the advice the message adds (for an interface that
        words its own, as the playground does).
    """

    def __init__(
        self,
        message: str,
        *,
        epoch: int = -1,
        step: int = -1,
        history: list[float] | None = None,
        cause: str = "",
    ) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.history = list(history or [])
        self.cause = cause


class GradientUndefinedError(ChainruleError, ValueError):
    """Back-propagation asked for a derivative that carries no information (the step unit's u')."""


__all__ = [
    "ChainruleError",
    "DataError",
    "DivergenceError",
    "DownloadError",
    "GradientUndefinedError",
    "ModelFileError",
    "ValidationError",
]
