"""The figures of ``chainrule plot`` / ``train --plots``: legends and colours a reader relies on."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from chainrule.datasets import load
from chainrule.fit import TrainConfig, fit
from chainrule.plots import decision_regions_figure, loss_curves_figure, save_plots


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
    regions, *scatters = axes.collections  # the regions' cells, then the points
    points = [tuple(c.get_facecolor()[0][:3]) for c in scatters]
    assert len(points) == 12
    assert len(set(points)) == 12, "two classes share a point colour"
    bands = [regions.cmap(regions.norm(code)) for code in range(12)]  # each code's region
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


def _named_model():
    """A classifier of the named features ``weight`` (tens) and ``height`` (units), the
    training frame (with its ``animal`` labels) and the class codes of its rows."""
    pd = pytest.importorskip("pandas")
    from chainrule.datasets import Dataset

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"weight": rng.normal(100, 10, 60), "height": rng.normal(5, 0.1, 60)})
    frame["animal"] = np.where(frame["weight"] > 100, "cat", "dog")
    codes = (frame["animal"] == "dog").to_numpy().astype(np.int64)  # classes: cat, dog
    data = Dataset(
        frame[["weight", "height"]].to_numpy(),
        codes,
        ["weight", "height"],
        "animal",
        ["cat", "dog"],
        "classification",
        "pets",
    )
    return fit(data, TrainConfig(epochs=2, hidden=(4,))), frame, codes


def test_decision_regions_put_a_frames_columns_on_the_axes_they_name():
    """A DataFrame with the features in another order (or with the target beside them) was
    read by position: height's values drawn on the axis labelled weight, and the regions
    predicted for points that were not the data's."""
    model, frame, codes = _named_model()
    for X in (frame[["height", "weight"]], frame):  # swapped; with the label column
        axes = decision_regions_figure(model, X, codes, resolution=20).axes[0]
        assert (axes.get_xlabel(), axes.get_ylabel()) == ("weight", "height")
        for code, scatter in enumerate(axes.collections[1:]):
            expected = frame.loc[codes == code, ["weight", "height"]].to_numpy()
            np.testing.assert_array_equal(scatter.get_offsets(), expected)


@pytest.mark.parametrize("how", ["labels", "too few"])
def test_figures_refuse_y_that_is_no_class_code_per_row(tmp_path, how):
    """Labels ('cat') matched no code and left the decision regions without a single point,
    silently; a y of the wrong length ended in an IndexError."""
    from chainrule.errors import ValidationError

    model, frame, codes = _named_model()
    X = frame[["weight", "height"]]
    y = frame["animal"] if how == "labels" else codes[:3]
    message = "y must be integer class indices" if how == "labels" else "one class code per row"
    with pytest.raises(ValidationError, match=message) as raised:
        decision_regions_figure(model, X, y)
    if how == "labels":
        assert "model.classes.index" in str(raised.value)
    with pytest.raises(ValidationError, match=message):
        save_plots(model, X, y, tmp_path / "figs")
    assert not (tmp_path / "figs").exists()


def test_a_feature_of_one_value_gets_an_axis_one_can_read():
    """A constant column (or a single row) drew the regions in a band 2e-10 wide about its
    value, the axis ticked "1e-10+5": nothing of the model's behaviour along it was visible."""
    model, frame, codes = _named_model()
    X = frame[["weight", "height"]].assign(height=5.0)
    axes = decision_regions_figure(model, X, codes, resolution=20).axes[0]
    low, high = axes.get_ylim()
    assert low < 5.0 < high and high - low >= 0.5, (low, high)  # 10% of 5 on either side
    assert axes.get_xlim()[1] - axes.get_xlim()[0] > np.ptp(frame["weight"])  # as before


def test_decision_regions_paint_no_class_that_is_not_predicted_there():
    """Filled contours interpolated between class codes: the border between the regions of
    classes 0 and 2 was painted as a band of class 1, which the model predicts nowhere."""
    from chainrule.engine import Network
    from chainrule.fit import FittedModel
    from chainrule.plots import _class_colors

    # softmax excitations e_0 = -10 x1, e_1 = -100, e_2 = 10 x1: class 0 left of x1 = 0, 2 right
    W = [[-10.0, 0.0, 0.0], [0.0, 0.0, -100.0], [10.0, 0.0, 0.0]]
    net = Network.from_weights([W], ["softmax"], dtype="float64")
    model = FittedModel(net, "classification", classes=["a", "b", "c"])
    figure = decision_regions_figure(model, [[-1.0, -1.0], [1.0, 1.0]], [0, 2], resolution=50)
    figure.canvas.draw()
    rgb = np.asarray(figure.canvas.buffer_rgba())[..., :3] / 255
    box = figure.axes[0].get_window_extent()
    top, bottom = int(rgb.shape[0] - box.y1) + 3, int(rgb.shape[0] - box.y0) - 3
    inside = rgb[top:bottom, int(box.x0) + 3 : int(box.x1) - 3].reshape(-1, 3)
    painted = 0.3 * np.array(_class_colors(3))[:, :3] + 0.7  # alpha 0.3 over white
    distance = np.abs(inside[:, None, :] - painted[None]).max(axis=2)
    assert (distance[:, 0] < 0.02).sum() > 1000 and (distance[:, 2] < 0.02).sum() > 1000
    assert (distance[:, 1] < 0.02).sum() == 0, "class b painted where it is not predicted"


def test_the_legend_of_many_classes_fits_beside_the_plot():
    """60 classes make a legend of 4 columns, which ran off the figure's right edge."""
    from chainrule.datasets import Dataset

    k = 60
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(k), 2)
    X = rng.uniform(-10, 10, (k, 2))[y] + rng.standard_normal((len(y), 2))
    names = [f"species {i:03d} (long name)" for i in range(k)]
    data = Dataset(X, y, ["a", "b"], "t", names, "classification", "many")
    model = fit(data, TrainConfig(epochs=1, hidden=(4,)))
    figure = decision_regions_figure(model, X, y, resolution=20)
    figure.canvas.draw()
    legend = figure.axes[0].get_legend().get_window_extent()
    plot = figure.axes[0].get_window_extent()
    assert figure.bbox.x0 <= legend.x0 and legend.x1 <= figure.bbox.x1
    assert legend.x0 >= plot.x1 and plot.width >= 0.5 * 7.5 * figure.dpi  # beside, not over
