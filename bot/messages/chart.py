"""The pipeline chart: proposals by stage, stacked by risk level, as PNG bytes.

matplotlib with the Agg backend through the object-oriented API (no pyplot, no global
state), so it is safe in a server thread and needs no display.
"""

from __future__ import annotations

import io
from typing import Any

from bot.domain.proposal import RISK_LEVELS, STAGES

COLOURS = {"low": "#4caf50", "medium": "#ffb300", "high": "#e53935"}


def pipeline_chart_png(by_stage_risk: dict[str, dict[str, int]], *, dpi: int = 100) -> bytes:
    """A stacked bar chart of `{stage: {risk: count}}`; stages in lifecycle order."""
    fig = pipeline_figure(by_stage_risk, dpi=dpi)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def pipeline_figure(by_stage_risk: dict[str, dict[str, int]], *, dpi: int = 100) -> Any:
    """The chart as a matplotlib Figure: counts of proposals, so the y axis has
    whole-number ticks only."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    stages = [s for s in STAGES if any(by_stage_risk.get(s, {}).values())] or ["in_review"]
    fig = Figure(figsize=(8, 4), dpi=dpi)
    FigureCanvasAgg(fig)
    ax: Any = fig.add_subplot(1, 1, 1)
    bottoms = [0] * len(stages)
    for risk in RISK_LEVELS:
        values = [int(by_stage_risk.get(s, {}).get(risk, 0)) for s in stages]
        ax.bar([s.replace("_", " ") for s in stages], values, bottom=bottoms, label=risk, color=COLOURS[risk])
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.set_title("AI portfolio: proposals by stage and risk")
    ax.set_ylabel("proposals")
    top = max(bottoms or [0])
    ax.set_ylim(0, top + max(1, round(top * 0.25)))  # headroom: the legend never covers a bar
    ax.legend(title="risk", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.tick_params(axis="x", labelrotation=20)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # proposals come whole: no 0.5 ticks
    fig.tight_layout()
    return fig
