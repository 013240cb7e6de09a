"""Learning-curve plots, for the notebooks and for the feedback report.

The student's curves are drawn over the band that the reference solution's calibrated runs
cover, so a glance says whether training went like the solution's.
"""
from __future__ import annotations

import math

from .fonts import use_cjk_fallback
from ..base.i18n import t


def _finite(values):
    return [v if v is not None and math.isfinite(v) else float("nan") for v in values]


def learning_curves(history, title: str, question_id: str | None = None, ax=None):
    """Plot loss and val_loss per epoch; with ``question_id``, shade the solution's band."""
    import matplotlib.pyplot as plt

    use_cjk_fallback()
    curves = getattr(history, "history", history) or {}
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5))
    use_cjk_fallback(ax)
    if question_id is not None:
        _reference_band(ax, question_id)
    loss, val_loss = _finite(curves.get("loss", [])), _finite(curves.get("val_loss", []))
    epochs = range(1, len(loss) + 1)
    ax.plot(epochs, loss, label=t("plot.your-loss"), color="#1f77b4", linewidth=2)
    ax.plot(range(1, len(val_loss) + 1), val_loss, label=t("plot.your-val-loss"), color="#d62728", linewidth=2)
    comparison_values = _comparisons(ax, question_id) if question_id is not None else []
    if val_loss and all(math.isnan(v) for v in val_loss[-3:]):
        ax.text(0.5, 0.5, t("plot.diverged"), transform=ax.transAxes,
                ha="center", va="center", color="#cf222e", fontsize=12, fontweight="bold")
    ax.set_title(title)
    ax.set_xlabel(t("plot.epoch"))
    ax.set_ylabel(t("plot.loss-axis"))
    # Below the axes, so that it never hides a curve.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small", frameon=False)
    ax.grid(True, alpha=0.3)
    _zoom(ax, loss + val_loss + comparison_values)
    return ax


# Comparison runs: dark, distinct from the student's colours, and told apart by line style too.
COMPARISON_STYLES = (("#1a1a1a", "--"), ("#7b3294", ":"))


def _comparisons(ax, question_id: str) -> list:
    """Draw the calibrated comparison runs (questions.COMPARISONS); a run that diverged is named
    in the legend and marked where it left the plot, since NaN cannot be drawn."""
    try:
        from ..judging.reference import comparisons

        runs = comparisons(question_id)
    except Exception:  # noqa: BLE001 - the plot still helps without them (reference hidden)
        return []
    values = []
    for run, (colour, style) in zip(runs, COMPARISON_STYLES):
        curve = _finite(run.val_loss)
        epochs = range(1, len(curve) + 1)
        if run.diverged_at is None:
            ax.plot(epochs, curve, color=colour, linestyle=style, linewidth=1.6,
                    label=t("plot.comparison", label=run.label))
            values.extend(curve)
            continue
        label = t("plot.comparison-diverged", label=run.label, epoch=run.diverged_at)
        ax.plot(epochs, curve, color=colour, linestyle=style, linewidth=1.6, label=label)
        ax.annotate(t("plot.diverged-at", label=run.label, epoch=run.diverged_at), xy=(run.diverged_at, 1.0),
                    xycoords=("data", "axes fraction"), xytext=(18, -28), textcoords="offset points",
                    color=colour, fontsize=9, arrowprops={"arrowstyle": "->", "color": colour})
    return values


def _zoom(ax, values) -> None:
    """Keep the interesting part in view: the first epochs' huge losses would flatten the rest."""
    finite = sorted(v for v in values if math.isfinite(v))
    if len(finite) > 4:
        low, high = finite[0], finite[int(0.95 * (len(finite) - 1))]
        pad = 0.1 * (high - low or abs(high) or 1)
        ax.set_ylim(low - pad, high + pad)


def _reference_band(ax, question_id: str) -> None:
    try:
        from ..judging.reference import band
    except Exception:  # noqa: BLE001 - the plot still helps without the band
        return
    try:
        reference = band(question_id)
    except Exception:  # noqa: BLE001
        return
    curves = [_finite(c) for c in reference.curves]
    if not curves:
        return
    epochs = range(1, len(curves[0]) + 1)
    low = [min(c[i] for c in curves) for i in range(len(curves[0]))]
    high = [max(c[i] for c in curves) for i in range(len(curves[0]))]
    ax.fill_between(epochs, low, high, color="#d62728", alpha=0.15,
                    label=t("plot.solution-band", seeds=reference.seeds))
    ax.axhline(reference.threshold, color="#8c8c8c", linestyle="-.", linewidth=1,
               label=t("plot.threshold", threshold=f"{reference.threshold:.4f}"))
