"""The errors a sweep raises on purpose: a bad config, an unreachable scheduler, a bad file."""

from __future__ import annotations

from pathlib import Path

from chainrule.errors import ChainruleError, ValidationError


class SweepConfigError(ValidationError):
    """The sweep config has an unknown key, a value of the wrong type or out of range."""


class SchedulerError(ChainruleError, ConnectionError):
    """The Dask scheduler named by ``scheduler=`` / ``--scheduler`` cannot be reached."""


class ResultsFileError(ChainruleError, ValueError):
    """The results file cannot be read back (a damaged record other than a torn last line)."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep; ``kept`` of ``total`` trials are safe in ``results_path``.

    A :class:`KeyboardInterrupt`, so code that stops on one still does, that says what was
    kept so a person knows a re-run resumes rather than starts over.
    """

    def __init__(self, kept: int, total: int, results_path: Path) -> None:
        super().__init__(kept, total, results_path)
        self.kept, self.total, self.results_path = kept, total, results_path

    def __str__(self) -> str:
        return (
            f"{self.kept} of {self.total} trials kept in {self.results_path} "
            "(re-run to finish the rest)"
        )


__all__ = ["ResultsFileError", "SchedulerError", "SweepConfigError", "SweepInterrupted"]
