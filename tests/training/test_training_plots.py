"""Figures: which ones apply, and clear errors when one cannot be drawn."""

from __future__ import annotations

import itertools

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


def _drawn(figure):
    """Lay the figure out as saving it would, so text has its final size and place."""
    figure.canvas.draw()
    return figure.canvas.get_renderer()


def test_a_single_epoch_is_drawn_and_epochs_are_whole_numbers():
    data = load("xor", n_samples=40, seed=0)
    one = fit(data, TrainConfig(epochs=1, hidden=(4,)))
    figure = loss_curves_figure(one.history)
    _drawn(figure)
    for axes in figure.axes:
        lines = axes.get_lines()
        assert len(lines) == 2  # training and validation
        # one point makes no line segment: without a marker nothing at all would be drawn
        assert all(line.get_marker() not in (None, "None", "", " ") for line in lines)
        assert list(axes.get_xticks()) == [1.0]
    five = fit(data, TrainConfig(epochs=5, hidden=(4,)))
    figure = loss_curves_figure(five.history)
    _drawn(figure)
    for axes in figure.axes:
        low, high = axes.get_xlim()
        ticks = [t for t in axes.get_xticks() if low <= t <= high]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_long_class_names_do_not_run_into_each_other_under_the_confusion_matrix():
    from chainrule.plots import confusion_matrix_figure

    classes = ["Iris-setosa-with-a-long-name", "versicolor (garden)", "virginica", "x"]
    y = np.arange(8) % 4
    figure = confusion_matrix_figure(y, y, classes)
    renderer = _drawn(figure)
    boxes = [label.get_window_extent(renderer) for label in figure.axes[0].get_xticklabels()]
    assert len(boxes) == 4
    for i in range(4):
        for j in range(i + 1, 4):
            assert not _overlap(boxes[i], boxes[j]), (classes[i], classes[j])


def test_the_decision_region_legend_hides_no_data():
    data = load("gaussian", n_classes=4, n_samples=80, seed=0)
    model = fit(data, TrainConfig(epochs=1, hidden=(4,)))
    figure = decision_regions_figure(model, data.X, data.y, resolution=20)
    renderer = _drawn(figure)
    axes = figure.axes[0]
    legend = axes.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == model.classes
    assert not _overlap(legend.get_window_extent(renderer), axes.get_window_extent(renderer))
    assert figure.bbox.contains(*legend.get_window_extent(renderer).p1)  # not cut off


def test_the_labels_of_a_hundred_classes_do_not_overprint():
    from chainrule.plots import confusion_matrix_figure

    k = 100
    classes = [f"class_{i}" for i in range(k)]
    y = np.arange(2 * k) % k
    figure = confusion_matrix_figure(y, y, classes)
    renderer = _drawn(figure)
    axes = figure.axes[0]
    for labels in (axes.get_xticklabels(), axes.get_yticklabels()):
        boxes = [label.get_window_extent(renderer) for label in labels if label.get_text()]
        assert len(boxes) >= 20  # thinned perhaps, but still named along the axis
        assert not any(_overlap(a, b) for a, b in itertools.pairwise(boxes))


def test_the_loss_axis_is_logarithmic_only_over_decades():
    data = load("xor", n_samples=40, seed=0)
    short = fit(data, TrainConfig(epochs=2, hidden=(4,)))
    losses = short.history.series("loss") + short.history.series("val_loss")
    assert max(losses) < 10 * min(losses)
    figure = loss_curves_figure(short.history)
    assert figure.axes[0].get_yscale() == "linear"  # no tick labels like 1.45 x 10^0
    _drawn(figure)
    assert not any("times" in t.get_text() for t in figure.axes[0].get_yticklabels())
    history = History(
        epochs=[{"epoch": e, "loss": 10.0**-e, "accuracy": 0.5} for e in (1, 2, 3)],
        task="classification",
    )
    assert loss_curves_figure(history).axes[0].get_yscale() == "log"


@pytest.mark.parametrize(
    "classes, data",
    [
        (["a rather long class name number 0", "number 1", "number 2"], "x.csv"),
        (["0", "1"], "some/rather/long/path/to/a/test_file_with_a_very_very_long_name_indeed.csv"),
        (["0", "1", "2"], r"C:\Users\Margaret Hamilton\Lecture 10\held-out test data (final).csv"),
    ],
    ids=["long labels", "long path", "long path with spaces"],
)
def test_long_labels_and_file_names_leave_the_matrix_its_size_and_are_not_cut_off(classes, data):
    """Within a figure sized for short labels, 33-character class names squeezed the matrix
    to 1.5 inches in a corner, and a long file name in the title ran off the figure's edge."""
    from chainrule.plots import confusion_matrix_figure

    k = len(classes)
    y = np.arange(4 * k) % k
    figure = confusion_matrix_figure(y, y, classes, data=data)
    renderer = _drawn(figure)
    axes = figure.axes[0]
    inside = figure.bbox
    texts = [axes.title, *axes.get_xticklabels(), *axes.get_yticklabels()]
    for text in texts:
        box = text.get_window_extent(renderer)
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, text.get_text()
        assert inside.y0 <= box.y0 and box.y1 <= inside.y1, text.get_text()
    assert axes.get_window_extent(renderer).height / figure.dpi >= 0.5 * (4.0 + 0.4 * k)
    shown = axes.get_title().split("\n", 1)[1]
    # wrapped (at a space, or inside a word longer than a line), with nothing left out
    assert "".join(shown.split()) == "".join(f"on {data}".split())
