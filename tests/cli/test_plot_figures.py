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


def test_plot_says_so_when_no_figure_applies(tmp_path):
    """A regression model without a history (a sweep's best model) has no figure to draw:
    ``chainrule plot`` must say so, not end silently with an empty folder."""
    from chainrule.engine.training import History
    from cli_helpers import chainrule

    data = load("plane", n_samples=40, seed=0)
    model = fit(data, TrainConfig(epochs=1, hidden=(2,)))
    model.history = History()
    model.save(tmp_path / "m.safetensors")
    np.savetxt(tmp_path / "d.csv", np.column_stack([data.X, data.y]), delimiter=",")
    result = chainrule("plot", "m.safetensors", "d.csv", "-o", "figs", cwd=tmp_path)
    assert result.returncode == 2, result
    assert "nothing to plot" in result.stderr and "regression" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "figs").exists()


@pytest.mark.parametrize(
    "command",
    [["plot", "m.safetensors", "xor", "-o"], ["train", "xor", "--epochs", "1", "--plots"]],
)
def test_a_figure_file_name_for_the_folder_option_is_refused(tmp_path, command):
    """``-o loss.png`` would make a folder named loss.png with the figures inside."""
    from cli_helpers import chainrule

    data = load("xor", n_samples=40, seed=0)
    fit(data, TrainConfig(epochs=1, hidden=(2,))).save(tmp_path / "m.safetensors")
    result = chainrule(*command, "loss.png", cwd=tmp_path)
    assert result.returncode == 2, result
    assert "names a folder" in result.stderr and "'loss.png', a file name" in result.stderr
    assert "give a folder such as 'loss'" in result.stderr
    assert not (tmp_path / "loss.png").exists()


def test_the_confusion_matrix_says_which_rows_it_counts(tmp_path, monkeypatch):
    """``train --plots`` counts every row, the training ones included, so its accuracy is no
    test score; ``plot`` counts the file it is given. The title says which."""
    import chainrule.plots as plots
    from chainrule.cli import main

    titles = []
    real = plots.confusion_matrix_figure

    def recording(*args, **kwargs):
        figure = real(*args, **kwargs)
        titles.append(figure.axes[0].get_title())
        return figure

    monkeypatch.setattr(plots, "confusion_matrix_figure", recording)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "xor", "--epochs", "1", "--plots", "a", "-o", "m.safetensors"]) == 0
    assert main(["plot", "m.safetensors", "xor", "-o", "b"]) == 0
    assert titles[0].startswith("confusion matrix (accuracy ")
    assert titles[0].endswith("\non xor, all rows (training ones included)")
    assert titles[1].endswith("\non xor")
