"""Argument checks shared by the data-set modules (private).

Each check names the argument, what was expected and what was got, and raises
:class:`~chainrule.errors.ValidationError`.
"""

from __future__ import annotations

import math
import numbers
import os
import sys

import numpy as np

from chainrule.errors import ValidationError

Seed = int | np.random.Generator | None


def check_int(value: object, name: str, *, low: int, high: int | None = None) -> int:
    """Return ``value`` as an ``int`` if it is an integer in ``low..high`` (inclusive).

    Raises
    ------
    ValidationError
        If ``value`` is a bool, not an integer, or out of range.
    """
    span = f"in {low}..{high}" if high is not None else f">= {low}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValidationError(f"{name} must be an integer {span}; got {value!r}")
    result = int(value)
    if result < low or (high is not None and result > high):
        raise ValidationError(f"{name} must be an integer {span}; got {result}")
    return result


def check_n_samples(value: object, *, low: int, bytes_per_sample: int) -> int:
    """Return ``n_samples`` as an ``int`` if it is an integer >= ``low`` whose arrays, at
    ``bytes_per_sample`` (the generator's peak use), fit in this machine's memory.

    Too many samples are refused before anything is allocated: numpy would fail with a
    MemoryError, a ValueError or an OverflowError that name no argument, or, with memory
    overcommitted, the operating system would kill the process without a word.

    Raises
    ------
    ValidationError
        If ``value`` is not such an integer.
    """
    n = check_int(value, "n_samples", low=low)
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not on this system: what is addressable
        memory = sys.maxsize
    needed = n * bytes_per_sample
    if needed > memory:
        raise ValidationError(
            f"n_samples={n:,} would need about {needed / 2**30:,.1f} GiB, more than this "
            f"machine's {memory / 2**30:,.1f} GiB of memory; ask for fewer samples"
        )
    return n


def check_nonneg_float(value: object, name: str) -> float:
    """Return ``value`` as a ``float`` if it is a finite real number >= 0.

    Raises
    ------
    ValidationError
        If ``value`` is a bool, not a real number, not finite, or negative.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationError(f"{name} must be a finite number >= 0; got {value!r}")
    result = float(value)
    if not math.isfinite(result) or result < 0:
        raise ValidationError(f"{name} must be a finite number >= 0; got {result!r}")
    return result


def make_rng(seed: object) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``seed`` (int >= 0, Generator or None).

    A Generator is used as is (it is advanced by the caller); an int gives a fresh,
    reproducible Generator; ``None`` draws fresh entropy from the operating system.

    Raises
    ------
    ValidationError
        If ``seed`` is of another type or a negative integer.
    """
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
        raise ValidationError(
            f"seed must be an integer >= 0, a numpy.random.Generator or None; got {seed!r}"
        )
    return np.random.default_rng(int(seed))
