"""The segment card's actions: Add / Reduce / Refine Contacts with a live preview, Go Back, saved
criteria, Reuse Logged Segment, Apply Mailing Group, Export Contacts and Log."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rapport.accounts import User
from rapport.api.deps import SessionDep
from rapport.core.enums import CorrespondenceType
from rapport.core.interactions.models import InteractionLogEntry
from rapport.core.masterdata import MailingGroup
from rapport.core.segments import actions
from rapport.core.segments import header as headers
from rapport.core.segments import logging as seglog
from rapport.core.segments.actions import AddContacts, RemoveContacts, ReuseCriteria, SaveCriteria
from rapport.core.segments.logging import LogRequest
from rapport.core.segments.models import IdempotencyRecord, LoggedSegment, SavedSegmentCriteria
from rapport.errors import Conflict, Invalid, NotFound, RapportError
from rapport.web.common import check_csrf, flash, form_errors, page_user, redirect, render
from rapport.web.i18n import _, ngettext
from rapport.web.segments import is_htmx, render_card

router = APIRouter()

CRITERIA_ACTIONS = {"add-contacts": actions.ADD, "reduce-contacts": actions.REDUCE, "refine-contacts": actions.REFINE}
PANELS = ("go-back", "save-criteria", "reuse-criteria", "reuse-logged-segment", "apply-mailing-group", "log")
SAMPLE_SIZE = 8


def criteria_tables() -> list[dict[str, Any]]:
    """The criteria tables of filters.md with their fields, captioned in the page's language."""
    return [
        {
            "table": "contact",
            "title": _("Contact"),
            "fields": [
                ("no", _("No.")),
                ("type", _("Type")),
                ("name", _("Name")),
                ("search_name", _("Search Name")),
                ("company_no", _("Company No.")),
                ("salesperson_code", _("Salesperson Code")),
                ("post_code", _("Post Code")),
                ("city", _("City")),
                ("country_code", _("Country/Region Code")),
                ("territory_code", _("Territory Code")),
                ("language_code", _("Language Code")),
                ("correspondence_type", _("Correspondence Type")),
                ("email", _("Email")),
            ],
        },
        {"table": "mailing_group", "title": _("Mailing group"), "fields": [("code", _("Mailing Group Code"))]},
        {
            "table": "industry_group",
            "title": _("Industry group of the company"),
            "fields": [("code", _("Industry Group Code"))],
        },
        {
            "table": "job_responsibility",
            "title": _("Job responsibility"),
            "fields": [("code", _("Job Responsibility Code"))],
        },
        {
            "table": "business_relation",
            "title": _("Business relation of the company"),
            "fields": [
                ("code", _("Business Relation Code")),
                ("link_to_table", _("Link to Table")),
                ("link_no", _("Link No.")),
            ],
        },
        {
            "table": "profile_answer",
            "title": _("Profile answer"),
            "fields": [("questionnaire_code", _("Profile Questionnaire Code")), ("answer_code", _("Answer Code"))],
        },
        {
            "table": "interaction",
            "title": _("Interaction log entries of the contact"),
            "fields": [
                ("date", _("Date")),
                ("segment_no", _("Segment No.")),
                ("campaign_no", _("Campaign No.")),
                ("evaluation", _("Evaluation")),
                ("interaction_template_code", _("Interaction Template Code")),
                ("interaction_group_code", _("Interaction Group Code")),
                ("salesperson_code", _("Salesperson Code")),
                ("canceled", _("Canceled")),
                ("postponed", _("Postponed")),
                ("information_flow", _("Information Flow")),
                ("initiated_by", _("Initiated By")),
            ],
        },
    ]


def parse_criteria(form: Any) -> dict[str, dict[str, str]]:
    """`criteria.<table>.<field>` inputs -> the criteria object of the core (blank filters dropped)."""
    criteria: dict[str, dict[str, str]] = {}
    for key, value in form.items():
        if not key.startswith("criteria.") or not isinstance(value, str) or not value.strip():
            continue
        parts = key.split(".", 2)
        if len(parts) == 3:
            criteria.setdefault(parts[1], {})[parts[2]] = value
    return criteria


def _options(form: Any, action: str) -> dict[str, bool]:
    names = actions.ADD_OPTIONS if action == actions.ADD else ("entire_companies",)
    return {name: name in form for name in names}


def _values(form: Any) -> dict[str, Any]:
    return {k: v for k, v in form.items() if k != "csrf_token" and isinstance(v, str)}


def _panel(
    request: Request, session: Session, user: User, no: str, panel: str, status_code: int = 200, **extra: Any
) -> Any:
    """The panel alone for htmx, else the whole card with the panel open."""
    context = {"panel": panel, "panel_context": _panel_context(session, no, panel), **extra}
    if is_htmx(request) and request.method == "GET":
        header = actions.get_header(session, no)
        values = extra.get("values", {})
        return render(
            request,
            "segment_actions/_panel.html",
            {"user": user, "segment": header, "values": values, "errors": extra.get("errors", {}), **context},
            status_code,
        )
    return render_card(request, session, user, no, status_code, **context)


def _panel_context(session: Session, no: str, panel: str) -> dict[str, Any]:
    header = actions.get_header(session, no)
    if panel in CRITERIA_ACTIONS:
        return {"action": CRITERIA_ACTIONS[panel], "tables": criteria_tables()}
    if panel == "go-back":
        history = actions.list_actions(session, header.no)
        return {"last": history[-1] if history else None}
    if panel == "reuse-criteria":
        saved = session.execute(
            select(SavedSegmentCriteria.code, SavedSegmentCriteria.description).order_by(SavedSegmentCriteria.code)
        ).all()
        return {"choices": [("", "")] + [(c, f"{c} - {d}" if d else c) for c, d in saved]}
    if panel == "reuse-logged-segment":
        logged = session.execute(
            select(LoggedSegment.entry_no, LoggedSegment.segment_no, LoggedSegment.description)
            .where(LoggedSegment.canceled.is_(False))
            .order_by(LoggedSegment.entry_no.desc())
            .limit(200)
        ).all()
        return {"choices": [("", "")] + [(str(e), f"{e} · {s} - {d}") for e, s, d in logged]}
    if panel == "apply-mailing-group":
        groups = session.execute(select(MailingGroup.code, MailingGroup.description).order_by(MailingGroup.code)).all()
        return {"choices": [("", "")] + [(c, f"{c} - {d}" if d else c) for c, d in groups]}
    if panel == "log":
        return {"idempotency_key": uuid.uuid4().hex}
    return {}


# --- Add / Reduce / Refine Contacts ------------------------------------------------------------------


@router.post("/segments/{no}/preview")
async def preview(no: str, request: Request, session: SessionDep) -> Any:
    """The live count of an Add / Reduce / Refine as the user types; changes nothing."""
    form = await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    action = str(form.get("action", ""))
    body: dict[str, Any] = {"criteria": parse_criteria(form), **_options(form, action)}
    context: dict[str, Any] = {"user": user, "action": action, "tables": criteria_tables(), "errors": {}}
    try:
        result = actions.preview(session, no, action, body)
    except (RapportError, ValidationError) as exc:
        if isinstance(exc, NotFound):
            raise
        context["errors"] = form_errors(exc)
        return render(request, "segment_actions/_preview.html", context, 422)
    context["result"] = result
    context["sample"] = result["sample"][:SAMPLE_SIZE]
    return render(request, "segment_actions/_preview.html", context)


async def _dialog_action(
    no: str,
    panel: str,
    request: Request,
    session: Session,
    run: Callable[[User, dict[str, Any], Any], str],
    *,
    refused: tuple[type[Exception], ...] = (RapportError, ValidationError),
    status_code: int = 422,
) -> Any:
    """One of the card's dialogs posted: `run` calls the core and says what it did; commit, flash that and
    back to the card. Refused, the dialog again with the errors (a missing segment stays a 404)."""
    form = await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    values = _values(form)
    try:
        message = run(user, values, form)
        header_no = actions.get_header(session, no).no
        session.commit()
    except refused as exc:
        if isinstance(exc, NotFound):
            raise
        session.rollback()
        return _panel(request, session, user, no, panel, status_code, values=values, errors=form_errors(exc))
    flash(request, message)
    return redirect(f"/segments/{header_no}")


async def _criteria_action(no: str, path: str, request: Request, session: Session) -> Any:
    def run(user: User, values: dict[str, Any], form: Any) -> str:
        action = CRITERIA_ACTIONS[path]
        criteria = parse_criteria(form)
        options = _options(form, action)
        if action == actions.ADD:
            added = actions.add_contacts(session, no, AddContacts(criteria=criteria, **options))
            skipped = added.skipped
            return ngettext(
                "%(num)s contact added; skipped: %(present)s already present, %(excluded)s excluded, "
                "%(blocked)s blocked for privacy.",
                "%(num)s contacts added; skipped: %(present)s already present, %(excluded)s excluded, "
                "%(blocked)s blocked for privacy.",
                added.added,
                present=skipped.already_present,
                excluded=skipped.excluded,
                blocked=skipped.privacy_blocked,
            )
        removed, _action_no = actions.remove_contacts(session, no, action, RemoveContacts(criteria=criteria, **options))
        return ngettext("%(num)s line removed.", "%(num)s lines removed.", removed)

    return await _dialog_action(no, path, request, session, run)


@router.post("/segments/{no}/add-contacts")
async def add_contacts(no: str, request: Request, session: SessionDep) -> Any:
    return await _criteria_action(no, "add-contacts", request, session)


@router.post("/segments/{no}/reduce-contacts")
async def reduce_contacts(no: str, request: Request, session: SessionDep) -> Any:
    return await _criteria_action(no, "reduce-contacts", request, session)


@router.post("/segments/{no}/refine-contacts")
async def refine_contacts(no: str, request: Request, session: SessionDep) -> Any:
    return await _criteria_action(no, "refine-contacts", request, session)


# --- Go Back, saved criteria, reuse, mailing group ---------------------------------------------------


@router.post("/segments/{no}/go-back")
async def go_back(no: str, request: Request, session: SessionDep) -> Any:
    """Undo the last criteria action."""

    def run(user: User, values: dict[str, Any], form: Any) -> str:
        result = actions.go_back(session, no)
        return _(
            "Action %(action)s was undone: %(removed)s lines removed, %(restored)s lines restored.",
            action=result["action_no"],
            removed=result["lines_removed"],
            restored=result["lines_restored"],
        )

    return await _dialog_action(no, "go-back", request, session, run, refused=(Conflict,), status_code=409)


@router.post("/segments/{no}/save-criteria")
async def save_criteria(no: str, request: Request, session: SessionDep) -> Any:
    def run(user: User, values: dict[str, Any], form: Any) -> str:
        data = SaveCriteria(code=values.get("code", ""), description=values.get("description", ""))
        saved = actions.save_criteria(session, no, data, user_id=user.username)
        return _("The criteria were saved as %(code)s.", code=saved.code)

    return await _dialog_action(no, "save-criteria", request, session, run)


@router.post("/segments/{no}/reuse-criteria")
async def reuse_criteria(no: str, request: Request, session: SessionDep) -> Any:
    def run(user: User, values: dict[str, Any], form: Any) -> str:
        result = actions.reuse_criteria(session, no, ReuseCriteria(code=values.get("code", "")))
        return _("Criteria reused: %(added)s lines added, %(removed)s removed.", **result)

    return await _dialog_action(no, "reuse-criteria", request, session, run)


@router.post("/segments/{no}/reuse-logged-segment")
async def reuse_logged_segment(no: str, request: Request, session: SessionDep) -> Any:
    def run(user: User, values: dict[str, Any], form: Any) -> str:
        raw = values.get("logged_segment_entry_no", "").strip()
        if not raw.isdigit():
            raise Invalid(_("Choose a logged segment."), field="logged_segment_entry_no")
        result = actions.reuse_logged_segment(session, no, int(raw))
        return ngettext(
            "%(num)s line added; %(blocked)s contacts blocked for privacy were skipped.",
            "%(num)s lines added; %(blocked)s contacts blocked for privacy were skipped.",
            result.added,
            blocked=result.skipped.privacy_blocked,
        )

    return await _dialog_action(no, "reuse-logged-segment", request, session, run, refused=(RapportError,))


@router.post("/segments/{no}/apply-mailing-group")
async def apply_mailing_group(no: str, request: Request, session: SessionDep) -> Any:
    """Assign every contact of the segment to a mailing group (the API's operation)."""

    def run(user: User, values: dict[str, Any], form: Any) -> str:
        header = actions.get_header(session, no)
        result = headers.apply_mailing_group(
            session, header.no, values.get("mailing_group_code", ""), "delete_old_assignments" in form
        )
        return _(
            "Mailing group %(code)s is now applied to segment %(no)s (%(assigned)s contacts assigned).",
            code=result["mailing_group_code"],
            no=header.no,
            assigned=result["assigned"],
        )

    return await _dialog_action(no, "apply-mailing-group", request, session, run)


@router.get("/segments/{no}/contacts.csv")
def export_contacts(no: str, request: Request, session: SessionDep) -> Any:
    """The segment's contacts as CSV, the same file as the API's."""
    page_user(request, session)
    file_name, chunks = headers.contacts_csv(session, no)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


# --- Log ---------------------------------------------------------------------------------------------


@router.post("/segments/{no}/log")
async def log_segment(no: str, request: Request, session: SessionDep) -> Any:
    """Log the segment once per form (the form's key makes a double click log once)."""
    form = await check_csrf(request)
    user = page_user(request, session, "marketing.write")
    values = _values(form)
    form_key = str(values.get("idempotency_key", ""))[:100]
    key = f"ui:{form_key}" if form_key else f"ui:{uuid.uuid4().hex}"
    data = LogRequest(deliver="deliver" in form, create_follow_up="create_follow_up" in form)
    values["deliver"], values["create_follow_up"] = data.deliver, data.create_follow_up
    segment_no = no.strip().upper()
    try:
        seglog.log_segment_once(session, segment_no, data, user_id=user.username, key=key)
        session.commit()
    except (RapportError, IntegrityError) as exc:
        session.rollback()
        if seglog.previous_result(session, key) is not None:
            return redirect(f"/segments/{segment_no}/log-result/{key[3:]}")
        if isinstance(exc, (NotFound, IntegrityError)):
            raise
        return _panel(request, session, user, no, "log", 409, values=values, errors=form_errors(exc))
    return redirect(f"/segments/{segment_no}/log-result/{key[3:]}")


@router.get("/segments/{no}/log-result/{key}")
def log_result(no: str, key: str, request: Request, session: SessionDep) -> Any:
    """What logging did: entries created, messages queued, letters to download, the follow-up."""
    user = page_user(request, session)
    record = session.get(IdempotencyRecord, f"ui:{key}")
    if record is None or record.scope != f"log-segment {no.strip().upper()}":
        raise NotFound(_("This logging result does not exist."))
    body = record.body
    entry_no = body["logged_segment_entry_no"]
    counts = dict(
        session.execute(
            select(InteractionLogEntry.correspondence_type, func.count())
            .where(InteractionLogEntry.logged_segment_entry_no == entry_no)
            .group_by(InteractionLogEntry.correspondence_type)
        ).all()
    )
    deliver = bool(body.get("emails_queued") or body.get("letters"))
    return render(
        request,
        "segment_actions/log_result.html",
        {
            "user": user,
            "result": body,
            "segment_no": no.strip().upper(),
            "emails": body.get("emails_queued", counts.get(CorrespondenceType.EMAIL.value, 0)) if deliver else 0,
            "letters": body.get("letters", counts.get(CorrespondenceType.HARD_COPY.value, 0)) if deliver else 0,
        },
    )


# Last: the catch-all of the dialogs must not shadow the card's other GET routes.
@router.get("/segments/{no}/{panel}")
def open_panel(no: str, panel: str, request: Request, session: SessionDep) -> Any:
    """One of the card's dialogs (Add Contacts, Go Back, Log, ...)."""
    if panel not in CRITERIA_ACTIONS and panel not in PANELS:
        raise NotFound(_("This page does not exist."))
    user = page_user(request, session, "marketing.write")
    values: dict[str, Any] = {}
    if panel == "log":
        values = {"deliver": deliver_default(session, no), "create_follow_up": False}
    return _panel(request, session, user, no, panel, values=values)


def deliver_default(session: Session, no: str) -> bool:
    """Deliver is on by default only when some line has a correspondence type (domain.md 3.12)."""
    from rapport.core.segments.models import SegmentLine

    header = actions.get_header(session, no)
    line = session.scalar(
        select(SegmentLine.line_no)
        .where(SegmentLine.segment_no == header.no, SegmentLine.correspondence_type != "")
        .limit(1)
    )
    return line is not None
