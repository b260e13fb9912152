"""The home page: what exists so far, at a glance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select

from rapport.api.deps import SessionDep
from rapport.core.contacts import Contact
from rapport.core.enums import ContactType
from rapport.core.interactions import InteractionLogEntry
from rapport.core.masterdata import Salesperson
from rapport.web.common import page_user, render

router = APIRouter()


@router.get("/")
def home(request: Request, session: SessionDep) -> Any:
    user = page_user(request, session)

    def count(stmt: Any) -> int:
        return int(session.scalar(stmt) or 0)

    counts = {
        "companies": count(select(func.count()).where(Contact.type == ContactType.COMPANY.value)),
        "persons": count(select(func.count()).where(Contact.type == ContactType.PERSON.value)),
        "salespeople": count(select(func.count()).select_from(Salesperson)),
        "interactions": count(select(func.count()).where(InteractionLogEntry.postponed.is_(False))),
    }
    latest = list(session.scalars(select(Contact).order_by(Contact.no.desc()).limit(10)))
    return render(request, "home/index.html", {"user": user, "counts": counts, "latest": latest})
