"""The demo's digits section: test accuracy of at least 95% with the defaults, quietly piped."""

from __future__ import annotations

import re

from chainrule.cli.demo import SECTIONS, Tour, digits


def test_digits_section_reaches_95_percent(capsys):
    assert SECTIONS[-1].run is digits
    digits(Tour(output_dir=None, quick=False))
    out, err = capsys.readouterr()
    accuracy = re.search(r"test accuracy ([\d.]+)% on (\d+) held-out images", out)
    assert accuracy and float(accuracy.group(1)) >= 95, out
    assert "\r" not in out and err == ""  # no progress bar when stdout is not a terminal
