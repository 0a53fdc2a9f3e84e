"""The figures of ``chainrule plot`` / ``train --plots``: legends and colours a reader relies on."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from chainrule.datasets import load
from chainrule.fit import TrainConfig, fit
from chainrule.plots import decision_regions_figure, loss_curves_figure


def test_the_best_epoch_line_is_named_in_the_legends():
    data = load("xor", n_samples=60, seed=0)
    model = fit(data, TrainConfig(epochs=4, hidden=(4,), early_stopping=True, patience=1))
    assert model.history.best_epoch is not None
    figure = loss_curves_figure(model.history)
    for axes in figure.axes:
        legend = axes.get_legend()
        assert legend is not None
        assert "best epoch" in [text.get_text() for text in legend.get_texts()]
        assert model.history.best_epoch in [line.get_xdata()[0] for line in axes.get_lines()]


def test_every_class_of_more_than_ten_has_its_own_colour():
    data = load("gaussian", n_classes=12, n_samples=120, seed=0)
    model = fit(data, TrainConfig(epochs=1, hidden=(4,)))
    figure = decision_regions_figure(model, data.X, data.y, resolution=20)
    axes = figure.axes[0]
    regions, *scatters = axes.collections  # the contourf bands (one per class), then the points
    points = [tuple(c.get_facecolor()[0][:3]) for c in scatters]
    assert len(points) == 12
    assert len(set(points)) == 12, "two classes share a point colour"
    bands = regions.get_facecolor()
    assert len({tuple(np.round(c[:3], 6)) for c in bands}) == 12, "two classes share a region"
    for band, point in zip(bands, points, strict=True):
        assert tuple(band[:3]) == pytest.approx(point)
