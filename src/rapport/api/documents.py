"""Document events: interactions recorded automatically for documents of the books."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from rapport.api.deps import InteractionWriter, ReleasingRoute, SessionDep, commit
from rapport.api.interactions import InteractionRead, entry_read
from rapport.core import documents
from rapport.core.documents import DocumentEvent

router = APIRouter(route_class=ReleasingRoute, tags=["documents"])


class NotLoggedRead(BaseModel):
    logged: Literal[False] = False
    reason: Literal["no_template", "no_contact", "privacy_blocked"]


@router.post(
    "/document-events",
    status_code=201,
    response_model=InteractionRead,
    responses={200: {"model": NotLoggedRead, "description": "Nothing was recorded, and why."}},
)
def document_event(event: DocumentEvent, session: SessionDep, user: InteractionWriter) -> Any:
    """Record the interaction that Interaction Template Setup configures for the document type."""
    result = documents.log_document(session, event, user_id=user.username)
    if isinstance(result, documents.NotLogged):
        return JSONResponse({"logged": False, "reason": result.reason}, status_code=200)
    commit(session)
    return entry_read(session, result)
