"""Interaction templates and groups: the generic master-data pages, plus a template's languages and attachments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from rapport.accounts import User
from rapport.api.deps import SessionDep, commit, file_response
from rapport.core import attachments, templates
from rapport.core.attachments import Attachment
from rapport.core.campaigns import Campaign
from rapport.core.enums import CorrespondenceType, InformationFlow, InitiatedBy, WizardAction
from rapport.core.templates import (
    InteractionGroup,
    InteractionTemplate,
    TemplateLanguageCreate,
    TemplateLanguageUpdate,
)
from rapport.errors import RapportError
from rapport.filters import field_specs
from rapport.web.common import check_csrf, flash, form_errors, page_user, redirect
from rapport.web.i18n import _
from rapport.web.masterdata import (
    GROUPS,
    LANGUAGES,
    WRITE,
    Field,
    Table,
    card_page,
    code_options,
    description_fields,
    enum_options,
    failure_status,
    field_input,
    register,
)

router = APIRouter()


def template_fields() -> tuple[Field, ...]:
    return (
        Field("code", _("Code"), required=True),
        Field("interaction_group_code", _("Interaction group code"), "select", GROUPS, required=True),
        Field("description", _("Description")),
        Field("unit_cost", _("Unit cost (LCY)"), "number"),
        Field("unit_duration_min", _("Unit duration (min.)"), "number"),
        Field("information_flow", _("Information flow"), "select", enum_options(InformationFlow), in_list=False),
        Field("initiated_by", _("Initiated by"), "select", enum_options(InitiatedBy), in_list=False),
        Field(
            "campaign_no", _("Campaign no."), "select", code_options(Campaign.no, Campaign.description), in_list=False
        ),
        Field("campaign_target", _("Campaign target"), "checkbox", in_list=False),
        Field("campaign_response", _("Campaign response"), "checkbox", in_list=False),
        Field(
            "correspondence_type_default",
            _("Correspondence type (default)"),
            "select",
            enum_options(CorrespondenceType),
        ),
        Field(
            "language_code_default",
            _("Language code (default)"),
            "select",
            LANGUAGES,
            help=_("A language without a row on this template gets one."),
        ),
        Field(
            "wizard_action",
            _("Wizard action"),
            "select",
            enum_options(WizardAction),
            help=_("Merge needs a Word document or an HTML body in the default language."),
        ),
        Field("ignore_contact_corres_type", _("Ignore contact corres. type"), "checkbox", in_list=False),
    )


def template_card(session: Session, template: InteractionTemplate) -> dict[str, Any]:
    """The language rows of the template with their attachments, for its card."""
    rows = templates.template_languages(session, template.code)
    nos = [r.attachment_no for r in rows if r.attachment_no is not None]
    files = {a.no: a for a in session.scalars(select(Attachment).where(Attachment.no.in_(nos)))} if nos else {}
    return {
        "template_languages": [(row, files.get(row.attachment_no) if row.attachment_no else None) for row in rows],
        "language_options": LANGUAGES(session),
        "attachment_no": templates.default_attachments(session, [template.code])[template.code],
    }


def template_table() -> Table:
    """Interaction templates: every field of BC's card, statistics, and the languages section."""
    return Table(
        "interaction-templates",
        _("Interaction templates"),
        InteractionTemplate,
        template_fields(),
        get=templates.get_template,
        create=lambda s, v: templates.create_template(s, templates.InteractionTemplateCreate.model_validate(v)),
        update=lambda s, code, v: templates.update_template(
            s, code, templates.InteractionTemplateUpdate.model_validate(v)
        ),
        delete=templates.delete_template,
        statistics=templates.template_statistics,
        filters=field_specs(InteractionTemplate),
        card_extra="interaction_templates/_languages.html",
        card_context=template_card,
        defaults={"correspondence_type_default": CorrespondenceType.EMAIL.value},
    )


def group_table() -> Table:
    """Interaction groups with their statistics."""
    return Table(
        "interaction-groups",
        _("Interaction groups"),
        InteractionGroup,
        description_fields(),
        get=templates.get_group,
        create=lambda s, v: templates.create_group(s, templates.InteractionGroupCreate.model_validate(v)),
        update=lambda s, code, v: templates.update_group(s, code, templates.InteractionGroupUpdate.model_validate(v)),
        delete=templates.delete_group,
        statistics=templates.group_statistics,
        filters=field_specs(InteractionGroup),
    )


register(router, "interaction-templates", template_table)
register(router, "interaction-groups", group_table)


# --- template languages and attachments ----------------------------------------------------

TEMPLATE_URL = "/setup/interaction-templates"
NEW_ROW = "__new__"  # marks errors of the "add a language" form


def template_page_with_errors(
    request: Request, session: Session, user: User, code: str, row: str, values: dict[str, Any], exc: Exception
) -> Any:
    """The template card again, the refused language form showing its input and errors."""
    session.rollback()
    table = template_table()
    return card_page(
        request,
        session,
        table,
        user,
        table.get(session, code),
        status_code=failure_status(exc),
        error_row=row,
        row_values=values,
        row_errors=form_errors(exc),
    )


def language_fields() -> list[Field]:
    return [Field("description", _("Description")), Field("subject", _("Subject"))]


def back_to(code: str, language_code: str = "") -> Any:
    anchor = f"#lang-{language_code}" if language_code else "#languages"
    return redirect(f"{TEMPLATE_URL}/{code}{anchor}")


@router.post(f"{TEMPLATE_URL}/{{code}}/languages")
async def add_language(code: str, request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, WRITE)
    values = field_input([Field("language_code", ""), *language_fields()], form)
    try:
        row = templates.create_template_language(session, code, TemplateLanguageCreate.model_validate(values))
        commit(session)
    except (RapportError, ValidationError) as exc:
        return template_page_with_errors(request, session, user, code, NEW_ROW, values, exc)
    flash(request, _("Language %(language)s was added.", language=row.language_code or _("(blank)")))
    return back_to(row.interaction_template_code, row.language_code)


@router.post(f"{TEMPLATE_URL}/{{code}}/languages/save")
async def save_language(code: str, request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, WRITE)
    language_code = str(form.get("language_code", ""))
    values = field_input(language_fields(), form)
    try:
        row = templates.update_template_language(
            session, code, language_code, TemplateLanguageUpdate.model_validate(values)
        )
        commit(session)
    except (RapportError, ValidationError) as exc:
        return template_page_with_errors(request, session, user, code, language_code, values, exc)
    flash(request, _("Language %(language)s was saved.", language=row.language_code or _("(blank)")))
    return back_to(row.interaction_template_code, row.language_code)


@router.post(f"{TEMPLATE_URL}/{{code}}/languages/delete")
async def delete_language(code: str, request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, WRITE)
    language_code = str(form.get("language_code", ""))
    try:
        templates.delete_template_language(session, code, language_code)
        commit(session)
    except RapportError as exc:
        return template_page_with_errors(request, session, user, code, language_code, {}, exc)
    flash(request, _("Language %(language)s was deleted.", language=language_code or _("(blank)")))
    return back_to(code.upper())


@router.post(f"{TEMPLATE_URL}/{{code}}/attachment")
async def upload_attachment(code: str, request: Request, session: SessionDep) -> Any:
    """Upload a language's file: the same core function as PUT .../languages/{language}/attachment."""
    form = await check_csrf(request)
    user = page_user(request, session, WRITE)
    language_code = str(form.get("language_code", ""))
    upload = form.get("file")
    try:
        if isinstance(upload, UploadFile):
            data = await upload.read()
            name, media_type = upload.filename or "", upload.content_type or ""
        else:
            data, name, media_type = b"", "", ""
        templates.set_language_attachment(session, code, language_code, name, media_type, data)
        commit(session)
    except RapportError as exc:
        return template_page_with_errors(request, session, user, code, language_code, {}, exc)
    flash(request, _("The attachment was uploaded."))
    return back_to(code.upper(), language_code)


@router.post(f"{TEMPLATE_URL}/{{code}}/attachment/delete")
async def remove_attachment(code: str, request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, WRITE)
    language_code = str(form.get("language_code", ""))
    try:
        templates.remove_language_attachment(session, code, language_code)
        commit(session)
    except RapportError as exc:
        return template_page_with_errors(request, session, user, code, language_code, {}, exc)
    flash(request, _("The attachment was removed."))
    return back_to(code.upper(), language_code)


@router.get(f"{TEMPLATE_URL}/{{code}}/attachment")
def download_attachment(code: str, request: Request, session: SessionDep, language_code: str = "") -> Any:
    page_user(request, session)
    attachment = templates.language_attachment(session, code, language_code)
    return file_response(attachment.file_name, attachment.media_type, attachments.read_content(session, attachment.no))
