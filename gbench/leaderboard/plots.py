"""Figures as inline SVG, drawn with matplotlib's SVG backend and made byte-stable: a fixed
hash salt per figure (which also keeps element ids unique when several figures share a
page), no date, text kept as ``<text>`` (so it is selectable and styled by the page).
Matplotlib escapes every string it writes, and math parsing is off, so a model name is
always shown as typed.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#8C564B",
)  # Okabe-Ito without yellow, then brown: distinguishable with colour-vision deficiency
MARKERS = "osD^vP*X"
INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
RC: dict[Any, Any] = {  # matplotlib types its keys as literals: these are among them
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.edgecolor": "#9ca3af",
    "axes.labelcolor": INK,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": GRID,
    "grid.linewidth": 0.6,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "legend.frameon": False,
}

Style = tuple[str, str]  # colour, marker


def styles(models: Sequence[str]) -> dict[str, Style]:
    """One colour and marker per model, fixed across every figure of the site."""
    return {
        m: (PALETTE[i % len(PALETTE)], MARKERS[(i // len(PALETTE)) % len(MARKERS)])
        for i, m in enumerate(models)
    }


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))  # saved with a tight box: that is the layout


def _svg(fig: Any, salt: str) -> str:
    """The figure as an ``<svg>`` element at its natural size (text the same size in every
    figure), shrunk by the page's CSS where the page is narrower."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({**RC, "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    # matplotlib numbers its groups figure_1, axes_1, ... in every figure: prefix all ids
    # (and the references to them) so several figures can share one page
    prefix = re.sub(r"[^a-z0-9]+", "-", salt.lower()) + "-"
    svg = re.sub(r'\bid="', f'id="{prefix}', svg)
    svg = svg.replace("url(#", f"url(#{prefix}").replace('href="#', f'href="#{prefix}')
    return svg.replace("<svg ", '<svg class="plot" ', 1)


def _scaled(values: Sequence[float]) -> bool:
    """Log scale where the values span more than a factor of 20."""
    positive = [v for v in values if v > 0]
    return len(positive) > 1 and max(positive) / min(positive) > 20


def sweep(
    series: Mapping[str, Sequence[tuple[float, float, float | None]]],
    style: Mapping[str, Style],
    ylabel: str,
    salt: str,
) -> str:
    """Score against edge homophily, one line per model: ``series[label] = [(h, mean, std)]``."""
    import matplotlib

    with matplotlib.rc_context(RC):
        fig = _figure(6.4, 3.6)
        ax = fig.add_subplot()
        # legend order = order of the lines' right ends, top first
        for label in sorted(series, key=lambda m: (-max(series[m])[1], m)):
            colour, marker = style[label]
            points = series[label]
            pts = sorted(points)
            hs = [p[0] for p in pts]
            means = [p[1] for p in pts]
            ax.plot(hs, means, color=colour, marker=marker, ms=4.5, lw=1.6, label=label)
            if all(p[2] is not None for p in pts):
                lo = [m - (p[2] or 0.0) for m, p in zip(means, pts, strict=True)]
                hi = [m + (p[2] or 0.0) for m, p in zip(means, pts, strict=True)]
                ax.fill_between(hs, lo, hi, color=colour, alpha=0.12, lw=0)
        ax.set_xlabel("edge homophily h (CSBM generator parameter)")
        ax.set_ylabel(ylabel)
        ax.set_xlim(-0.02, 1.02)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    return _svg(fig, salt)


def scaling(
    series: Mapping[str, Sequence[tuple[int, float | None, float | None]]],
    style: Mapping[str, Style],
    salt: str,
) -> str:
    """Cost against graph size, one line per model on two log-log panels: seconds per epoch
    and peak memory; ``series[label] = [(nodes, epoch seconds, peak MiB)]``."""
    import matplotlib

    with matplotlib.rc_context(RC):
        fig = _figure(9.6, 3.4)
        panels = fig.subplots(1, 2)
        for ax, k, ylabel in zip(
            panels, (1, 2), ("seconds per epoch", "peak memory (MiB)"), strict=True
        ):
            for label in sorted(series):
                colour, marker = style[label]
                pts = sorted((p[0], p[k]) for p in series[label] if p[k] is not None)
                xs, ys = [x for x, _ in pts], [y for _, y in pts]
                ax.plot(xs, ys, color=colour, marker=marker, ms=4.5, lw=1.6, label=label)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("nodes")
            ax.set_ylabel(ylabel)
        panels[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    return _svg(fig, salt)


def pareto_front(points: Sequence[tuple[str, float, float]]) -> list[str]:
    """Labels of the points no other point beats on both time (lower) and score (higher)."""
    front, best = [], -math.inf
    for label, _, score in sorted(points, key=lambda p: (p[1], -p[2], p[0])):
        if score > best:
            front.append(label)
            best = score
    return front


def pareto(
    points: Sequence[tuple[str, float, float]],
    style: Mapping[str, Style],
    xlabel: str,
    ylabel: str,
    salt: str,
) -> str:
    """Score against training time, ``points = [(label, seconds, score)]``, front highlighted."""
    import matplotlib

    front = pareto_front(points)
    with matplotlib.rc_context(RC):
        fig = _figure(6.4, 3.6)
        ax = fig.add_subplot()
        if _scaled([p[1] for p in points]):
            ax.set_xscale("log")
        on_front = sorted((p for p in points if p[0] in front), key=lambda p: p[1])
        ax.step(
            [p[1] for p in on_front],
            [p[2] for p in on_front],
            where="post",
            color=INK,
            lw=1.2,
            ls="--",
            alpha=0.7,
            label="Pareto front",
        )
        for label, seconds, score in points:
            colour, marker = style[label]
            best = label in front
            ax.scatter(
                [seconds],
                [score],
                color=colour,
                marker=marker,
                s=60 if best else 30,
                edgecolors=INK if best else "none",
                linewidths=1.0,
                alpha=1.0 if best else 0.55,
                zorder=3,
            )
            ax.annotate(
                label,
                (seconds, score),
                xytext=(6, 4),
                textcoords="offset points",
                fontsize=9,
                color=INK if best else MUTED,
                fontweight="bold" if best else "normal",
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(loc="best", fontsize=9)
    return _svg(fig, salt)


def rank_distribution(
    ranks: Mapping[str, Sequence[float]], models: int, style: Mapping[str, Style], salt: str
) -> str:
    """Each model's per-task ranks as dots, with its mean rank as a bar; best on top."""
    import matplotlib

    order = sorted(ranks, key=lambda m: (sum(ranks[m]) / len(ranks[m]), m))
    with matplotlib.rc_context(RC):
        fig = _figure(6.4, 0.9 + 0.32 * len(order))
        ax = fig.add_subplot()
        for row, label in enumerate(order):
            colour, marker = style[label]
            seen: dict[float, int] = {}
            for r in sorted(ranks[label]):
                lift = seen.get(r, 0)
                seen[r] = lift + 1
                offset = 0.11 * ((lift + 1) // 2) * (1 if lift % 2 else -1)  # stack repeats
                ax.scatter([r], [row + offset], color=colour, marker=marker, s=22, alpha=0.8)
            mean = sum(ranks[label]) / len(ranks[label])
            ax.plot([mean, mean], [row - 0.32, row + 0.32], color=INK, lw=2)
        ax.set_yticks(range(len(order)), order)
        ax.set_ylim(len(order) - 0.5, -0.5)
        ax.set_xlim(0.5, models + 0.5)
        ax.set_xticks(range(1, models + 1))
        ax.set_xlabel("rank on a task (1 = best); bar: mean rank")
        ax.grid(axis="y", visible=False)
    return _svg(fig, salt)


def performance_profile(
    curves: Mapping[str, Sequence[float]],
    thresholds: Sequence[float],
    style: Mapping[str, Style],
    salt: str,
) -> str:
    """The fraction of tasks above each normalised-score threshold, one step line per model."""
    import matplotlib

    with matplotlib.rc_context(RC):
        fig = _figure(6.4, 3.6)
        ax = fig.add_subplot()
        for label in sorted(curves, key=lambda m: (-sum(curves[m]), m)):
            colour = style[label][0]
            ax.step(thresholds, curves[label], where="post", color=colour, lw=1.8, label=label)
        ax.set_xlabel("normalised score τ (0: the MLP baseline, 1: the task's best)")
        ax.set_ylabel("fraction of tasks above τ")
        ax.set_ylim(-0.03, 1.03)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    return _svg(fig, salt)


def p_matrix(models: Sequence[str], p: Mapping[tuple[str, str], float], salt: str) -> str:
    """Holm-corrected pairwise p-values as a heat map: dark where a pair differs (small p),
    pale where it cannot be told apart; each cell written out, blank for untested pairs."""
    import matplotlib
    import numpy as np

    k = len(models)
    grid = np.full((k, k), np.nan)
    for (a, b), value in p.items():
        i, j = models.index(a), models.index(b)
        grid[i, j] = grid[j, i] = value
    with matplotlib.rc_context(RC):
        fig = _figure(1.6 + 0.55 * k, 1.2 + 0.45 * k)
        ax = fig.add_subplot()
        shade = -np.log10(np.clip(grid, 1e-4, 1.0))  # 0 (p = 1) .. 4 (p <= 1e-4)
        image = ax.imshow(shade, cmap="Blues", vmin=0, vmax=4)
        for i in range(k):
            for j in range(k):
                if not math.isnan(grid[i, j]):
                    text = f"{grid[i, j]:.2g}"
                    ink = "white" if shade[i, j] > 2.2 else INK
                    ax.text(j, i, text, ha="center", va="center", fontsize=8, color=ink)
        ax.set_xticks(range(k), models, rotation=40, ha="right")
        ax.set_yticks(range(k), models)
        ax.grid(visible=False)
        bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, ticks=[0, 1.3, 2, 3, 4])
        bar.ax.set_yticklabels(["1", "0.05", "0.01", "0.001", "≤1e-4"])
        bar.set_label("Holm-corrected p")
    return _svg(fig, salt)


def cd_diagram(
    mean_ranks: Mapping[str, float],
    cd: float,
    cliques: Sequence[Sequence[str]],
    style: Mapping[str, Style],
    salt: str,
) -> str:
    """Demšar's critical-difference diagram: mean ranks on an axis (1 = best, left), the CD
    as a scale bar, and a thick line joining each group not significantly different."""
    import matplotlib

    names = sorted(mean_ranks, key=lambda m: (mean_ranks[m], m))
    k = len(names)
    half = (k + 1) // 2
    gap, row = 0.12, 0.26
    top = len(cliques) * gap + 0.18  # label rows start below the clique lines
    with matplotlib.rc_context(RC):
        fig = _figure(6.4, 1.3 + 0.28 * half + 0.12 * len(cliques))
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.plot([1, k], [0, 0], color=INK, lw=1.2)
        for tick in range(1, k + 1):
            ax.plot([tick, tick], [0, 0.06], color=INK, lw=1.0)
            ax.text(tick, 0.1, str(tick), ha="center", va="bottom", fontsize=9, color=MUTED)
        ax.plot([1, 1 + cd], [0.42, 0.42], color=INK, lw=1.6)
        for x in (1, 1 + cd):
            ax.plot([x, x], [0.37, 0.47], color=INK, lw=1.2)
        ax.text(1 + cd / 2, 0.5, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
        for i, members in enumerate(cliques):
            lo, hi = mean_ranks[members[0]], mean_ranks[members[-1]]
            y = -gap * (i + 1)
            ax.plot([lo - 0.03, hi + 0.03], [y, y], color=INK, lw=3.2, solid_capstyle="round")
        for i, name in enumerate(names):
            left = i < half
            y = -(top + row * (i if left else k - 1 - i))
            x = mean_ranks[name]
            end = 1 - 0.2 if left else k + 0.2
            colour, marker = style[name]
            ax.plot([x, x, end], [0, y, y], color=MUTED, lw=0.9)
            ax.scatter([x], [0], color=colour, marker=marker, s=26, zorder=3)
            ax.text(
                end - 0.05 if left else end + 0.05,
                y,
                f"{name}  {x:.2f}" if left else f"{x:.2f}  {name}",
                ha="right" if left else "left",
                va="center",
                fontsize=10,
                color=INK,
            )
        ax.set_xlim(1 - 0.25, k + 0.25)
        ax.set_ylim(-(top + row * (half - 1)) - 0.15, 0.7)
    return _svg(fig, salt)
