"""Figures: which ones apply, and clear errors when one cannot be drawn."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from chainrule.datasets import load
from chainrule.engine.training import History
from chainrule.errors import ValidationError
from chainrule.fit import TrainConfig, fit
from chainrule.plots import decision_regions_figure, loss_curves_figure, save_plots


def test_three_features_get_no_decision_regions(tmp_path):
    data = load("iris")
    model = fit(data, TrainConfig(epochs=2, hidden=(4,)))
    written = save_plots(model, data.X, data.y, tmp_path / "figs")
    assert sorted(p.name for p in written) == ["confusion_matrix.png", "loss_curves.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in written)
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == sorted(p.name for p in written)
    with pytest.raises(ValidationError, match="2 features; this model takes 4"):
        decision_regions_figure(model, data.X, data.y)


def test_regression_gets_loss_curves_with_r2():
    data = load("plane", n_samples=60, seed=0)
    model = fit(data, TrainConfig(epochs=3, hidden=(4,)))
    figure = loss_curves_figure(model.history)
    labels = [axes.get_ylabel() for axes in figure.axes]
    assert labels == ["loss", "r2"]
    lines = figure.axes[0].get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), model.history.series("loss"))
    np.testing.assert_allclose(lines[1].get_ydata(), model.history.series("val_loss"))


def test_an_empty_history_cannot_be_plotted():
    with pytest.raises(ValidationError, match="no epochs"):
        loss_curves_figure(History())
