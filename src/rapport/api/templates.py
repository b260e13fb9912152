"""Interaction groups, interaction templates, their languages and attachments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, File, Response, UploadFile
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.api.deps import (
    ListParamsDep,
    MarketingWriter,
    Reader,
    ReleasingRoute,
    SessionDep,
    commit,
    file_response,
    keyset_page,
    parse_date_param,
)
from rapport.api.schemas import Statistics
from rapport.core import attachments, templates
from rapport.core.attachments import Attachment
from rapport.core.base import Int32
from rapport.core.enums import CorrespondenceType, InformationFlow, InitiatedBy, WizardAction, captions
from rapport.core.templates import (
    InteractionGroup,
    InteractionGroupCreate,
    InteractionGroupUpdate,
    InteractionTemplate,
    InteractionTemplateCreate,
    InteractionTemplateLanguage,
    InteractionTemplateUpdate,
    TemplateLanguageCreate,
    TemplateLanguageUpdate,
)
from rapport.filters import field_specs

router = APIRouter(route_class=ReleasingRoute)

GROUP_FIELDS = field_specs(InteractionGroup)
TEMPLATE_FIELDS = field_specs(
    InteractionTemplate,
    enums={
        "information_flow": captions(InformationFlow),
        "initiated_by": captions(InitiatedBy),
        "correspondence_type_default": captions(CorrespondenceType),
        "wizard_action": captions(WizardAction),
    },
)
LANGUAGE_FIELDS = field_specs(InteractionTemplateLanguage)
_TEMPLATE_COLUMNS = [c.key for c in InteractionTemplate.__table__.columns]



class InteractionGroupRead(Statistics):
    code: str
    description: str


class InteractionGroupPage(BaseModel):
    items: list[InteractionGroupRead]
    next_cursor: str | None


class InteractionTemplateRead(Statistics):
    code: str
    interaction_group_code: str
    description: str
    unit_cost: float
    unit_duration_min: float
    information_flow: str
    initiated_by: str
    campaign_no: str
    campaign_target: bool
    campaign_response: bool
    correspondence_type_default: str
    wizard_action: str
    ignore_contact_corres_type: bool
    language_code_default: str
    attachment_no: int | None


class InteractionTemplatePage(BaseModel):
    items: list[InteractionTemplateRead]
    next_cursor: str | None


class TemplateLanguageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    language_code: str
    description: str
    subject: str
    attachment_no: int | None


class TemplateLanguagePage(BaseModel):
    items: list[TemplateLanguageRead]
    next_cursor: str | None


class AttachmentRead(BaseModel):
    attachment_no: int
    file_name: str
    file_extension: str
    media_type: str
    size: int
    storage_type: str
    read_only: bool
    last_modified: dt.datetime


def groups_read(session: Session, rows: list[InteractionGroup], query: dict[str, str]) -> list[InteractionGroupRead]:
    """Interaction groups with their statistics for the requested period."""
    totals = templates.group_statistics(
        session, [g.code for g in rows], parse_date_param(query, "date_from"), parse_date_param(query, "date_to")
    )
    return [InteractionGroupRead(code=g.code, description=g.description, **vars(totals[g.code])) for g in rows]


def templates_read(
    session: Session, rows: list[InteractionTemplate], query: dict[str, str]
) -> list[InteractionTemplateRead]:
    """Interaction templates with their Attachment No. and statistics for the requested period."""
    codes = [t.code for t in rows]
    totals = templates.template_statistics(
        session, codes, parse_date_param(query, "date_from"), parse_date_param(query, "date_to")
    )
    attached = templates.default_attachments(session, codes)
    return [
        InteractionTemplateRead(
            **{f: getattr(t, f) for f in _TEMPLATE_COLUMNS},
            attachment_no=attached[t.code],
            **vars(totals[t.code]),
        )
        for t in rows
    ]


def attachment_read(attachment: Attachment) -> AttachmentRead:
    return AttachmentRead(
        attachment_no=attachment.no,
        file_name=attachment.file_name,
        file_extension=attachment.file_extension,
        media_type=attachment.media_type,
        size=attachment.size,
        storage_type=attachment.storage_type,
        read_only=attachment.read_only,
        last_modified=attachment.last_modified,
    )


def download(session: Session, attachment: Attachment) -> Response:
    """The attachment's content as a download with its file name and media type."""
    content = attachments.read_content(session, attachment.no)
    return file_response(attachment.file_name, attachment.media_type, content)


# --- interaction groups --------------------------------------------------------------------


@router.get("/interaction-groups", response_model=InteractionGroupPage, tags=["interaction groups"])
def list_groups(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    """Interaction groups by code; statistics take date_from/date_to."""
    rows, cursor = keyset_page(session, select(InteractionGroup), [InteractionGroup.code], params, GROUP_FIELDS)
    return {"items": groups_read(session, rows, params.query), "next_cursor": cursor}


@router.post("/interaction-groups", response_model=InteractionGroupRead, status_code=201, tags=["interaction groups"])
def create_group(data: InteractionGroupCreate, session: SessionDep, _: MarketingWriter) -> InteractionGroupRead:
    group = templates.create_group(session, data)
    commit(session)
    return groups_read(session, [group], {})[0]


@router.get("/interaction-groups/{code}", response_model=InteractionGroupRead, tags=["interaction groups"])
def get_group(code: str, session: SessionDep, params: ListParamsDep, _: Reader) -> InteractionGroupRead:
    return groups_read(session, [templates.get_group(session, code)], params.query)[0]


@router.patch("/interaction-groups/{code}", response_model=InteractionGroupRead, tags=["interaction groups"])
def update_group(
    code: str, data: InteractionGroupUpdate, session: SessionDep, _: MarketingWriter
) -> InteractionGroupRead:
    group = templates.update_group(session, code, data)
    commit(session)
    return groups_read(session, [group], {})[0]


@router.delete("/interaction-groups/{code}", status_code=204, tags=["interaction groups"])
def delete_group(code: str, session: SessionDep, _: MarketingWriter) -> Response:
    templates.delete_group(session, code)
    commit(session)
    return Response(status_code=204)


# --- interaction templates -----------------------------------------------------------------


@router.get("/interaction-templates", response_model=InteractionTemplatePage, tags=["interaction templates"])
def list_templates(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    """Interaction templates by code; statistics take date_from/date_to."""
    rows, cursor = keyset_page(
        session, select(InteractionTemplate), [InteractionTemplate.code], params, TEMPLATE_FIELDS
    )
    return {"items": templates_read(session, rows, params.query), "next_cursor": cursor}


@router.post(
    "/interaction-templates", response_model=InteractionTemplateRead, status_code=201, tags=["interaction templates"]
)
def create_template(
    data: InteractionTemplateCreate, session: SessionDep, _: MarketingWriter
) -> InteractionTemplateRead:
    template = templates.create_template(session, data)
    commit(session)
    return templates_read(session, [template], {})[0]


@router.get("/interaction-templates/{code}", response_model=InteractionTemplateRead, tags=["interaction templates"])
def get_template(code: str, session: SessionDep, params: ListParamsDep, _: Reader) -> InteractionTemplateRead:
    return templates_read(session, [templates.get_template(session, code)], params.query)[0]


@router.patch("/interaction-templates/{code}", response_model=InteractionTemplateRead, tags=["interaction templates"])
def update_template(
    code: str, data: InteractionTemplateUpdate, session: SessionDep, _: MarketingWriter
) -> InteractionTemplateRead:
    template = templates.update_template(session, code, data)
    commit(session)
    return templates_read(session, [template], {})[0]


@router.delete("/interaction-templates/{code}", status_code=204, tags=["interaction templates"])
def delete_template(code: str, session: SessionDep, _: MarketingWriter) -> Response:
    templates.delete_template(session, code)
    commit(session)
    return Response(status_code=204)


# --- template languages --------------------------------------------------------------------

_LANGUAGE = "/interaction-templates/{code}/languages/{language_code}"


@router.get(
    "/interaction-templates/{code}/languages", response_model=TemplateLanguagePage, tags=["interaction templates"]
)
def list_template_languages(code: str, session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    """The language rows of a template, by language code."""
    template = templates.get_template(session, code)
    stmt = select(InteractionTemplateLanguage).where(
        InteractionTemplateLanguage.interaction_template_code == template.code
    )
    rows, cursor = keyset_page(session, stmt, [InteractionTemplateLanguage.language_code], params, LANGUAGE_FIELDS)
    return {"items": rows, "next_cursor": cursor}


@router.post(
    "/interaction-templates/{code}/languages",
    response_model=TemplateLanguageRead,
    status_code=201,
    tags=["interaction templates"],
)
def create_template_language(code: str, data: TemplateLanguageCreate, session: SessionDep, _: MarketingWriter) -> Any:
    row = templates.create_template_language(session, code, data)
    commit(session)
    return row


@router.get(_LANGUAGE, response_model=TemplateLanguageRead, tags=["interaction templates"])
def get_template_language(code: str, language_code: str, session: SessionDep, _: Reader) -> Any:
    return templates.get_template_language(session, code, language_code)


@router.patch(_LANGUAGE, response_model=TemplateLanguageRead, tags=["interaction templates"])
def update_template_language(
    code: str, language_code: str, data: TemplateLanguageUpdate, session: SessionDep, _: MarketingWriter
) -> Any:
    row = templates.update_template_language(session, code, language_code, data)
    commit(session)
    return row


@router.delete(_LANGUAGE, status_code=204, tags=["interaction templates"])
def delete_template_language(code: str, language_code: str, session: SessionDep, _: MarketingWriter) -> Response:
    templates.delete_template_language(session, code, language_code)
    commit(session)
    return Response(status_code=204)


# --- attachments ---------------------------------------------------------------------------


@router.put(
    f"{_LANGUAGE}/attachment",
    response_model=AttachmentRead,
    responses={201: {"model": AttachmentRead, "description": "The attachment was created."}},
    tags=["attachments"],
)
def put_language_attachment(
    code: str,
    language_code: str,
    session: SessionDep,
    response: Response,
    _: MarketingWriter,
    file: UploadFile = File(...),
) -> AttachmentRead:
    """Upload the language's file: 201 for a new attachment, 200 when it replaces the old content."""
    data = file.file.read()
    attachment, created = templates.set_language_attachment(
        session, code, language_code, file.filename or "", file.content_type or "", data
    )
    commit(session)
    response.status_code = 201 if created else 200
    return attachment_read(attachment)


@router.get(f"{_LANGUAGE}/attachment", response_class=Response, tags=["attachments"])
def get_language_attachment(code: str, language_code: str, session: SessionDep, _: Reader) -> Response:
    """Download the language's file."""
    return download(session, templates.language_attachment(session, code, language_code))


@router.delete(f"{_LANGUAGE}/attachment", status_code=204, tags=["attachments"])
def delete_language_attachment(code: str, language_code: str, session: SessionDep, _: MarketingWriter) -> Response:
    templates.remove_language_attachment(session, code, language_code)
    commit(session)
    return Response(status_code=204)


@router.get("/attachments/{attachment_no}", response_class=Response, tags=["attachments"])
def get_attachment(attachment_no: Int32, session: SessionDep, _: Reader) -> Response:
    """Download an attachment with its file name and media type."""
    return download(session, attachments.get_attachment(session, attachment_no))
