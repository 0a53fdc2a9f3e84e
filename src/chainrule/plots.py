"""Figures of a training run as PNG files: loss curves, decision regions, confusion matrix.

matplotlib is imported only when a figure is drawn, and only its object-oriented API with the
Agg renderer (no pyplot, no window, no global state), so this works on a server and in threads.
Each file is written to a temporary name in its folder and renamed.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from chainrule._atomic import atomic_path
from chainrule.engine.metrics import class_indices, confusion_matrix
from chainrule.engine.training import History
from chainrule.errors import ChainruleError, ValidationError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from chainrule.fit import FittedModel

__all__ = ["confusion_matrix_figure", "decision_regions_figure", "loss_curves_figure", "save_plots"]


def _figure(width: float = 6.0, height: float = 4.0) -> Figure:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ChainruleError("plots need matplotlib: pip install 'chainrule[plots]'") from err
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    return path


def loss_curves_figure(history: History) -> Figure:
    """Training and validation loss per epoch; accuracy (or R^2) beside it when recorded.

    Raises
    ------
    ValidationError
        If the history has no epochs.
    """
    if not history.epochs:
        raise ValidationError("the history has no epochs to plot")
    score = "accuracy" if history.task == "classification" else "r2"
    figure = _figure(10.0, 4.0)
    loss_axes, score_axes = figure.subplots(1, 2)
    from matplotlib.ticker import MaxNLocator

    epochs = history.series("epoch")
    # A line needs two points: mark each epoch while there are few, so that a run of one
    # epoch (or an interrupted one) shows its scores instead of empty axes.
    marker = "o" if len(epochs) <= 20 else None
    for axes, key in ((loss_axes, "loss"), (score_axes, score)):
        axes.plot(epochs, history.series(key), marker=marker, label=f"training {key}")
        if history.series(f"val_{key}"):
            axes.plot(
                epochs, history.series(f"val_{key}"), marker=marker, label=f"validation {key}"
            )
        if history.best_epoch is not None:  # before the legend, so that the legend names it
            axes.axvline(history.best_epoch, color="gray", linestyle=":", label="best epoch")
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
        if len(epochs) == 1:  # else matplotlib ticks 0.96 .. 1.04 around the one epoch
            axes.set_xticks(epochs)
        axes.set_ylabel(key)
        axes.grid(alpha=0.3)
        axes.legend()
    # A log scale shows a loss falling over decades; over less than one it only writes tick
    # labels such as 1.45 x 10^0.
    losses = [v for key in ("loss", "val_loss") for v in history.series(key) if math.isfinite(v)]
    spread = min(losses) > 0 and max(losses) > 10 * min(losses) if losses else False
    loss_axes.set_yscale("log" if spread else "linear")
    figure.suptitle(f"training ({history.stopped})")
    figure.tight_layout()
    return figure


def _class_colors(k: int) -> list[tuple[float, float, float, float]]:
    """One distinct colour per class: tab10 up to 10 classes, tab20 up to 20, then turbo."""
    from matplotlib import colormaps

    if k <= 10:
        return [colormaps["tab10"](i) for i in range(k)]
    if k <= 20:  # the 10 strong hues first, then their light partners
        return [colormaps["tab20"](2 * i % 20 + (2 * i) // 20) for i in range(k)]
    return [colormaps["turbo"](i / (k - 1)) for i in range(k)]


def _model_features(model: FittedModel, X: ArrayLike) -> NDArray[np.float64]:
    """``X`` as the model reads it: checked as prediction checks it, and a DataFrame's columns
    picked by the model's feature names. Read by position, a frame with its columns in another
    order (or with the target beside them) put one feature's values on the other's axis."""
    model.transform(X)  # all of prediction's checks, finite values included
    return model.features(X)


def _class_codes(y: ArrayLike, classes: Sequence[str], n_rows: int) -> NDArray[np.int64]:
    """``y`` as class codes ``0..k-1``, one per row of ``X``; labels (``'cat'``), which match
    no code and would leave every point undrawn, are refused with what to pass instead."""
    codes = np.asarray(y)
    if codes.shape != (n_rows,):
        raise ValidationError(
            f"y must hold one class code per row of X ({n_rows} rows); got shape {codes.shape}"
        )
    return class_indices(
        "y",
        codes,
        len(classes),
        f" (y holds class codes, the positions of the labels in model.classes "
        f"{list(classes)!r:.80}; for labels pass [model.classes.index(str(v)) for v in y])",
    )


def decision_regions_figure(
    model: FittedModel, X: ArrayLike, y: ArrayLike, *, resolution: int = 200
) -> Figure:
    """The predicted class over the plane of two features, with the data points on top.

    Raises
    ------
    ValidationError
        If the model does not take exactly 2 features or is not a classifier.
    """
    if model.n_features != 2 or model.classes is None:
        raise ValidationError(
            "decision regions need a classifier of 2 features; this model takes "
            f"{model.n_features} ({model.task})"
        )
    points = _model_features(model, X)
    codes = _class_codes(y, model.classes, len(points))
    low, high = points.min(axis=0), points.max(axis=0)
    # A feature with one value (a single row, a constant column) has no spread to scale the
    # margin by: 1e-9 of it drew the regions in a band 2e-10 wide, ticked "1e-10+5". Its own
    # size (or 1 about 0) gives an axis on which the regions around it can be seen.
    spread = np.where(high > low, high - low, np.maximum(np.abs(high), 1.0))
    margin = 0.1 * spread
    x1 = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    x2 = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    grid1, grid2 = np.meshgrid(x1, x2)
    predicted = model.predict_codes(np.column_stack([grid1.ravel(), grid2.ravel()]))
    k = len(model.classes)
    colors = _class_colors(k)
    figure = _figure(7.5, 5.0)
    axes = figure.subplots()
    from matplotlib.colors import ListedColormap

    # Each grid cell in its predicted class's colour. Filled contours interpolated between the
    # codes: a border between classes 0 and 2 was drawn as a band of class 1, which is not
    # predicted there (and with many classes, as a rainbow of every class in between).
    axes.pcolormesh(
        grid1,
        grid2,
        predicted.reshape(grid1.shape),
        cmap=ListedColormap(colors),
        vmin=-0.5,
        vmax=k - 0.5,
        shading="nearest",
        alpha=0.3,
    )
    for code, label in enumerate(model.classes):
        mine = codes == code
        axes.scatter(
            points[mine, 0],
            points[mine, 1],
            s=12,
            color=colors[code],
            label=label,
            edgecolors="k",
            linewidths=0.3,
        )
    names = model.feature_names or ["x1", "x2"]
    axes.set_xlabel(names[0])
    axes.set_ylabel(names[1])
    # Beside the plot, not on it: inside, the legend would hide data points and regions.
    legend = axes.legend(
        title="class",
        fontsize="small",
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        borderaxespad=0.0,
        ncols=1 + (k - 1) // 15,
    )
    # Many classes make a legend of several columns, wider than the room beside the plot: it
    # ran off the figure (and the layout gave up). The figure grows to hold it beside the plot.
    figure.draw_without_rendering()
    legend_width = legend.get_window_extent().width / figure.dpi
    figure.set_figwidth(max(7.5, 6.2 + legend_width))
    axes.set_title("decision regions")
    figure.tight_layout()
    return figure


def confusion_matrix_figure(
    y_true: ArrayLike, y_pred: ArrayLike, classes: Sequence[str], *, data: str | None = None
) -> Figure:
    """Counts of true class (rows) against predicted class (columns), annotated; ``data``
    names the rows counted in the title (``"the training data"``, a file name)."""
    k = len(classes)
    counts = confusion_matrix(y_true, y_pred, k)
    size = min(4.0 + 0.4 * k, 12.0)  # the matrix, its colour bar and short labels
    # Upright labels share a column's width (about 0.6 of the figure over k columns, at some
    # 13 characters an inch); longer ones would run into each other, so they stand vertical.
    column_chars = 0.6 * size / k * 13
    upright = max(len(str(c)) for c in classes) <= column_chars
    # Many classes: smaller labels, down to 5 points, then only every step-th class named,
    # so that neighbouring labels never overprint each other.
    pitch = 0.7 * size * 72 / k  # points per row or column
    fontsize = min(10.0, 0.8 * pitch)
    step = 1 if fontsize >= 5 else math.ceil(5 / fontsize)
    fontsize = max(fontsize, 5.0)
    ticks = list(range(0, k, step))
    names = [str(classes[i]) for i in ticks]
    # Long labels take room of their own (a character is some 0.6 of its size in points, 72
    # points an inch): within `size` they squeezed the matrix into a corner of the figure.
    labels = 0.6 * fontsize / 72 * max(len(name) for name in names)
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    title = f"confusion matrix (accuracy {accuracy:.3f})"
    if data is not None:
        # On lines of their own, as wide as the matrix and its colour bar (the title is centred
        # over the matrix, which the colour bar holds at the right): a long file name ran off
        # the figure's edge and was cut off.
        width = int((0.7 * size + 1.2) / (0.65 * 12 / 72))  # wide letters: 0.65 of 12 points
        title += "\n" + "\n".join(textwrap.wrap(f"on {data}", width, break_on_hyphens=False))
    figure = _figure(size + labels, size + (0 if upright else labels))
    axes = figure.subplots()
    image = axes.imshow(counts, cmap="Blues")
    figure.colorbar(image, ax=axes, fraction=0.046)
    axes.set_xticks(ticks, labels=names, rotation=0 if upright else 90, fontsize=fontsize)
    axes.set_yticks(ticks, labels=names, fontsize=fontsize)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    if k <= 20:
        threshold = counts.max() / 2
        for i in range(k):
            for j in range(k):
                axes.text(
                    j,
                    i,
                    str(counts[i, j]),
                    ha="center",
                    va="center",
                    fontsize="small",
                    color="white" if counts[i, j] > threshold else "black",
                )
    axes.set_title(title)
    figure.tight_layout()
    return figure


def save_plots(
    model: FittedModel,
    X: ArrayLike,
    y: ArrayLike,
    directory: str | os.PathLike[str],
    *,
    data: str | None = None,
) -> list[Path]:
    """Write every figure that applies to ``directory`` (created if needed); return the paths.

    ``loss_curves.png`` when the model has a history; for a classifier ``confusion_matrix.png``
    on ``(X, y)`` (raw features, class codes; ``data`` names them in its title) and, with 2
    features, ``decision_regions.png``.
    """
    figures: list[tuple[Figure, str]] = []  # drawn first: a missing matplotlib creates nothing
    if model.history.epochs:
        figures.append((loss_curves_figure(model.history), "loss_curves.png"))
    if model.classes is not None:
        predicted: Any = model.predict_codes(X)
        codes = _class_codes(y, model.classes, len(predicted))
        figures.append(
            (
                confusion_matrix_figure(codes, predicted, model.classes, data=data),
                "confusion_matrix.png",
            )
        )
        if model.n_features == 2:
            figures.append((decision_regions_figure(model, X, codes), "decision_regions.png"))
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValidationError(f"cannot create the plot folder {folder}: {err.strerror}") from None
    return [_save(figure, folder / name) for figure, name in figures]
