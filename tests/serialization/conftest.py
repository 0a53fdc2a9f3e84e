"""Shared fixtures for the serialization tests: floating-point errors raise, as everywhere."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _strict_floating_point() -> Iterator[None]:
    with np.errstate(all="raise"):
        yield
