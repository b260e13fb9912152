"""The home page: the counts that matter, the latest interactions, and twelve weeks at a glance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rapport.api.deps import SessionDep
from rapport.core.contacts import Contact
from rapport.core.interactions import InteractionLogEntry as E
from rapport.core.interactions import queries
from rapport.core.segments.models import SegmentHeader
from rapport.core.templates import InteractionGroup
from rapport.web.common import page_user, render

router = APIRouter()

WEEKS = 12
PALETTE = ("#0b6e4f", "#2f6fdb", "#e07b24", "#8e44ad", "#c0392b", "#16a085", "#b7950b", "#5d6d7e", "#d35490")
# The chart's drawing area (SVG user units); the bars sit between the axes.
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 250, 48, 12, 14, 38
COST_HEIGHT = 130


def _nice_max(value: float) -> float:
    """A round upper bound for an axis (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


def weekly_totals(session: Session, today: dt.date) -> tuple[list[dt.date], dict[str, list[int]], list[Decimal]]:
    """Interactions per week and interaction group, and cost per week, over the last twelve weeks.

    One grouped query (by day and group; days fold into weeks here, the same on every database)."""
    first = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=WEEKS - 1)
    weeks = [first + dt.timedelta(weeks=i) for i in range(WEEKS)]
    rows = session.execute(
        select(E.date, E.interaction_group_code, func.count(), func.coalesce(func.sum(E.cost), 0))
        .where(E.date >= first, E.date <= weeks[-1] + dt.timedelta(days=6))
        .where(E.postponed.is_(False), E.canceled.is_(False))
        .group_by(E.date, E.interaction_group_code)
    )
    counts: dict[str, list[int]] = {}
    cost = [Decimal(0)] * WEEKS
    for day, group, n, amount in rows:
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        week = (day - first).days // 7
        counts.setdefault(group or "", [0] * WEEKS)[week] += int(n)
        cost[week] += Decimal(amount)
    return weeks, dict(sorted(counts.items())), cost


def chart(session: Session, today: dt.date) -> dict[str, Any]:
    """Geometry of the stacked bar chart and the cost line, ready for the template to draw."""
    weeks, counts, cost = weekly_totals(session, today)
    descriptions = dict(
        (code, text)
        for code, text in session.execute(
            select(InteractionGroup.code, InteractionGroup.description).where(InteractionGroup.code.in_(list(counts)))
        )
    )
    groups = [
        {"code": code, "description": descriptions.get(code, ""), "color": PALETTE[i % len(PALETTE)]}
        for i, code in enumerate(counts)
    ]
    totals = [sum(series[w] for series in counts.values()) for w in range(WEEKS)]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / WEEKS
    bars: list[dict[str, Any]] = []
    for w, start in enumerate(weeks):
        y = float(TOP + plot_h)
        segments: list[dict[str, Any]] = []
        for group in groups:
            n = counts[group["code"]][w]
            if n:
                h = plot_h * n / top
                y -= h
                segments.append({"y": round(y, 1), "h": round(h, 1), "n": n, **group})
        bars.append(
            {
                "x": round(LEFT + w * slot + slot * 0.18, 1),
                "w": round(slot * 0.64, 1),
                "cx": round(LEFT + w * slot + slot / 2, 1),
                "start": start,
                "total": totals[w],
                "cost": cost[w],
                "segments": segments,
            }
        )
    cost_top = _nice_max(float(max(cost, default=Decimal(0))))
    cost_plot_h = COST_HEIGHT - TOP - BOTTOM
    points = [(b["cx"], round(TOP + cost_plot_h - cost_plot_h * float(b["cost"]) / cost_top, 1)) for b in bars]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "cost_height": COST_HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "baseline": TOP + plot_h,
        "cost_baseline": TOP + cost_plot_h,
        "ticks": [{"y": round(TOP + plot_h - plot_h * f, 1), "value": f"{top * f:g}"} for f in (0, 0.5, 1)],
        "cost_ticks": [{"y": round(TOP + cost_plot_h - cost_plot_h * f, 1), "value": cost_top * f} for f in (0, 1)],
        "bars": bars,
        "groups": groups,
        "points": points,
        "polyline": " ".join(f"{x},{y}" for x, y in points),
        "empty": not any(totals),
        "total_cost": sum(cost, Decimal(0)),
    }


@router.get("/")
def home(request: Request, session: SessionDep) -> Any:
    user = page_user(request, session)
    today = dt.date.today()

    def count(stmt: Any) -> int:
        return int(session.scalar(stmt) or 0)

    month_start = today.replace(day=1)
    next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
    counts = {
        "contacts": count(select(func.count()).select_from(Contact)),
        "segments": count(select(func.count()).select_from(SegmentHeader)),
        "postponed": count(select(func.count()).where(E.postponed.is_(True))),
        "this_month": count(
            select(func.count()).where(
                E.postponed.is_(False), E.canceled.is_(False), E.date >= month_start, E.date < next_month
            )
        ),
    }
    latest = list(
        session.scalars(select(E).where(E.postponed.is_(False)).order_by(E.date.desc(), E.entry_no.desc()).limit(8))
    )
    contacts = list(session.scalars(select(Contact).order_by(Contact.no.desc()).limit(6)))
    context = {
        "user": user,
        "counts": counts,
        "latest": latest,
        "names": queries.contact_names(session, latest),
        "contacts": contacts,
        "chart": chart(session, today),
    }
    return render(request, "home/index.html", context)
