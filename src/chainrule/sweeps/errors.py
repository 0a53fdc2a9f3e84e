"""The errors a sweep raises on purpose: a bad config, an unreachable scheduler, a bad file."""

from __future__ import annotations

from chainrule.errors import ChainruleError, ValidationError


class SweepConfigError(ValidationError):
    """The sweep config has an unknown key, a value of the wrong type or out of range."""


class SchedulerError(ChainruleError, ConnectionError):
    """The Dask scheduler named by ``scheduler=`` / ``--scheduler`` cannot be reached."""


class ResultsFileError(ChainruleError, ValueError):
    """The results file cannot be read back (a damaged record other than a torn last line)."""


__all__ = ["ResultsFileError", "SchedulerError", "SweepConfigError"]
