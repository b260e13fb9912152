"""Interactions in the making: the Create Interaction flow (BC's wizard), finishing later, and the
Postponed Interactions list from which they are resumed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.api.deps import ListParams, SessionDep, keyset_page
from rapport.core import attachments, templates
from rapport.core.contacts import Contact
from rapport.core.interactions import InteractionLogEntry as E
from rapport.core.interactions import operations as ops
from rapport.core.interactions import queries, recording
from rapport.core.interactions.recording import InteractionCreate, InteractionResume
from rapport.core.masterdata import Language
from rapport.errors import NotFound, RapportError
from rapport.filters import contains_text
from rapport.web.common import check_csrf, flash, form_errors, page_user, redirect, render
from rapport.web.i18n import _
from rapport.web.interactions import (
    correspondence_options,
    evaluation_options,
    flow_options,
    initiated_options,
    lookups,
)

router = APIRouter()

PAGE_SIZE = 50
# The fields each step of the flow asks for; the other steps' values ride along as hidden fields.
STEPS: dict[int, tuple[str, ...]] = {
    1: (
        "contact_no",
        "interaction_template_code",
        "description",
        "salesperson_code",
        "language_code",
        "date",
        "time_of_interaction",
        "correspondence_type",
        "information_flow",
        "initiated_by",
    ),
    2: ("subject", "deliver"),
    3: (
        "cost",
        "duration_min",
        "evaluation",
        "successful",
        "campaign_no",
        "campaign_target",
        "campaign_response",
        "comments",
    ),
}
FLAGS = ("deliver", "successful", "campaign_target", "campaign_response")
FIELDS = tuple(name for names in STEPS.values() for name in names)
STEP_OF = {name: step for step, names in STEPS.items() for name in names} | {"comment": 3}


def _blank_values() -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(FIELDS, "")
    values.update(
        date=dt.date.today().isoformat(),
        time_of_interaction=recording.now_rounded_up().strftime("%H:%M"),
        successful=True,
        deliver=False,
        campaign_target=False,
        campaign_response=False,
    )
    return values


def _money(value: Any) -> str:
    return f"{value:f}".rstrip("0").rstrip(".") if value is not None else ""


def _from_entry(entry: E) -> dict[str, Any]:
    """The flow's fields filled from a postponed entry."""
    values = _blank_values()
    for name in FIELDS:
        if hasattr(entry, name) and name not in ("date", "time_of_interaction"):
            values[name] = getattr(entry, name)
    values["cost"], values["duration_min"] = _money(entry.cost), _money(entry.duration_min)
    values["successful"] = not entry.attempt_failed
    return values


def _resolve_contact(session: Session, text: str) -> Contact | None:
    """A contact by its number, else the first whose name contains the text (as BC's wizard does)."""
    text = text.strip()
    if not text:
        return None
    contact = session.get(Contact, text.upper())
    if contact is None:
        contact = session.scalar(
            select(Contact).where(contains_text(Contact.name, text)).order_by(Contact.no).limit(1)
        )
    return contact


def _apply_contact(session: Session, values: dict[str, Any], contact: Contact, locked: set[str]) -> None:
    """What choosing a contact sets: its number, salesperson and language (core's Contact No. validation)."""
    draft = recording.Draft(interaction_template_code=str(values["interaction_template_code"]))
    recording.set_contact(session, draft, contact)
    values["contact_no"] = draft.contact_no
    values["language_code"] = draft.language_code
    if "salesperson_code" not in locked:
        values["salesperson_code"] = draft.salesperson_code


def _apply_template(session: Session, values: dict[str, Any], previous: str) -> None:
    """What choosing a template sets, exactly as the core's Create Interaction applies it."""
    code = str(values["interaction_template_code"])
    if not code:
        return
    contact = session.get(Contact, str(values["contact_no"]).upper()) if values["contact_no"] else None
    basis = contact or Contact(correspondence_type="", language_code="")
    draft = recording.Draft(interaction_template_code=previous, description=str(values["description"]))
    try:
        recording.set_wizard_template(session, draft, basis, code)
    except RapportError:
        return
    for name in ("description", "correspondence_type", "language_code", "information_flow", "initiated_by"):
        values[name] = getattr(draft, name)
    values["cost"], values["duration_min"] = _money(draft.cost), _money(draft.duration_min)
    values["campaign_target"], values["campaign_response"] = draft.campaign_target, draft.campaign_response
    if draft.campaign_no and "campaign_no" not in values.get("_locked", ()):
        values["campaign_no"] = draft.campaign_no


def _submitted(form: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The flow's values and its bookkeeping (step, origin, resume, locks) from a posted form."""
    values: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in FIELDS if name not in FLAGS}
    values["comments"] = str(form.get("comments", "")).strip()
    for name in FLAGS:
        values[name] = form.get(name) == "true"
    step = str(form.get("step", "1"))
    state = {
        "step": int(step) if step in ("1", "2", "3") else 1,
        "origin": _safe_origin(form.get("origin")),
        "resume": str(form.get("resume", "")),
        "locked": {n for n in str(form.get("locked", "")).split(",") if n},
        "comments_original": str(form.get("comments_original", "")).strip(),
        "previous_template": str(form.get("previous_template", "")),
    }
    return values, state


def _safe_origin(value: Any) -> str:
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") else "/interactions"


def _request_data(values: dict[str, Any], state: dict[str, Any], postpone: bool) -> dict[str, Any]:
    """The core's Create Interaction input from the flow's fields (blanks take the core's defaults)."""
    data: dict[str, Any] = {
        name: values[name]
        for name in (
            "contact_no",
            "interaction_template_code",
            "description",
            "salesperson_code",
            "correspondence_type",
            "information_flow",
            "initiated_by",
            "evaluation",
            "campaign_no",
            *FLAGS,
        )
    }
    data["date"] = values["date"] or None
    for name in ("language_code", "time_of_interaction", "cost", "duration_min", "subject"):
        if values[name] != "":
            data[name] = values[name]
    if not state["resume"] or values["comments"] != state["comments_original"]:
        today = dt.date.today()
        data["comments"] = [
            {"date": today, "comment": line.strip()} for line in values["comments"].splitlines() if line.strip()
        ]
    data["postpone"] = postpone
    return data


def _record(session: Session, values: dict[str, Any], state: dict[str, Any], user: Any, postpone: bool) -> E:
    """Create (or resume) the interaction through the core."""
    data = _request_data(values, state, postpone)
    if state["resume"]:
        return recording.resume_interaction(
            session, int(state["resume"]), InteractionResume(**data), user_id=user.username
        )
    return recording.create_interaction(session, InteractionCreate(**data), user_id=user.username)


def _context(
    session: Session, user: Any, values: dict[str, Any], state: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    contact = session.get(Contact, str(values["contact_no"]).upper()) if values["contact_no"] else None
    attachment_name = None
    if values["interaction_template_code"]:
        try:
            no = templates.attachment_for(
                session, str(values["interaction_template_code"]), str(values["language_code"])
            )
            attachment_name = attachments.get_attachment(session, no).file_name if no is not None else None
        except NotFound:
            attachment_name = None
    language_rows = session.execute(select(Language.code, Language.name).order_by(Language.code)).all()
    return {
        "user": user,
        "values": values,
        "state": state,
        "steps": STEPS,
        "flags": FLAGS,
        "contact": contact,
        "attachment_name": attachment_name,
        "language_options": [("", "")] + [(c, f"{c} {n}".strip()) for c, n in language_rows],
        "correspondence_types": correspondence_options(),
        "flows": flow_options(),
        "initiators": initiated_options(),
        "evaluations": evaluation_options(),
        **lookups(session),
        **extra,
    }


@router.get("/interactions/new")
def new_interaction(
    request: Request,
    session: SessionDep,
    contact_no: str = "",
    salesperson_code: str = "",
    campaign_no: str = "",
    from_entry: int | None = None,
    resume: int | None = None,
) -> Any:
    user = page_user(request, session, "interactions.write")
    values = _blank_values()
    locked: set[str] = set()
    origin = "/interactions"
    comments = ""
    if resume is not None:
        entry = recording.get_entry(session, resume)
        if not entry.postponed:
            flash(request, _("Entry %(no)s is not postponed; only postponed interactions resume.", no=resume), "error")
            return redirect(f"/interactions/{resume}")
        values = _from_entry(entry)
        comments = "\n".join(c.comment for c in ops.list_comments(session, entry.entry_no))
        values["comments"] = comments
        locked, origin = {"contact_no"}, "/interactions/postponed"
    elif from_entry is not None:
        entry = recording.get_entry(session, from_entry)
        contact_no, salesperson_code = entry.contact_no, entry.salesperson_code
        campaign_no = entry.campaign_no
        locked, origin = {"contact_no", "salesperson_code", "campaign_no"}, f"/interactions/{from_entry}"
    if resume is None and contact_no:
        contact = session.get(Contact, contact_no.strip().upper())
        if contact is None:
            raise NotFound(_("Contact %(no)s does not exist.", no=contact_no))
        _apply_contact(session, values, contact, set())
        locked.add("contact_no")
        origin = origin if from_entry is not None else f"/contacts/{contact.no}"
    if resume is None and salesperson_code:
        values["salesperson_code"] = salesperson_code.strip().upper()
        locked.add("salesperson_code")
        origin = origin if (from_entry is not None or contact_no) else "/setup/salespeople"
    if resume is None and campaign_no:
        values["campaign_no"] = campaign_no.strip().upper()
        locked.add("campaign_no")
    state = {
        "step": 1,
        "origin": origin,
        "resume": str(resume or ""),
        "locked": locked,
        "comments_original": comments,
        "previous_template": str(values["interaction_template_code"]),
    }
    return render(request, "postponed/wizard.html", _context(session, user, values, state))


@router.get("/interactions/new/defaults")
def wizard_defaults(request: Request, session: SessionDep) -> Any:
    """The step's fields again after the contact or template changed, with the defaults applied."""
    user = page_user(request, session, "interactions.write")
    values, state = _submitted(request.query_params)
    changed = request.headers.get("hx-trigger-name", "")
    if changed == "contact_no" and "contact_no" not in state["locked"]:
        contact = _resolve_contact(session, str(values["contact_no"]))
        if contact is not None:
            _apply_contact(session, values, contact, state["locked"])
    if changed == "interaction_template_code" or (changed == "contact_no" and values["interaction_template_code"]):
        values["_locked"] = state["locked"]
        _apply_template(session, values, state["previous_template"])
        values.pop("_locked")
    state["previous_template"] = values["interaction_template_code"]
    return render(request, "postponed/_wizard_body.html", _context(session, user, values, state))


@router.post("/interactions/new")
async def submit_interaction(request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, "interactions.write")
    values, state = _submitted(form)
    go = str(form.get("go", "next"))
    if "contact_no" not in state["locked"] and values["contact_no"]:
        contact = _resolve_contact(session, str(values["contact_no"]))
        if contact is not None:
            values["contact_no"] = contact.no
    if go == "back":
        state["step"] = max(1, state["step"] - 1)
        return render(request, "postponed/wizard.html", _context(session, user, values, state))
    try:
        entry = _record(session, values, state, user, postpone=go != "finish")
        entry_no = entry.entry_no
        if go == "next":
            # Moving on only checks what the core would refuse; nothing is kept until Finish or Yes.
            session.rollback()
        else:
            session.commit()
    except (RapportError, ValidationError) as exc:
        session.rollback()
        errors = form_errors(exc)
        if "comment" in errors:
            errors["comments"] = errors.pop("comment")
        steps = [STEP_OF[f] for f in errors if f in STEP_OF]
        state["step"] = min(steps) if steps else state["step"]
        context = _context(session, user, values, state, errors=errors)
        return render(request, "postponed/wizard.html", context, status_code=422)
    if go == "next":
        state["step"] = min(3, state["step"] + 1)
        return render(request, "postponed/wizard.html", _context(session, user, values, state))
    if go == "finish":
        flash(request, _("Interaction %(no)s was logged.", no=entry_no))
        return redirect(f"/interactions/{entry_no}")
    flash(request, _("Interaction %(no)s was saved under Postponed Interactions; resume it to finish.", no=entry_no))
    return redirect("/interactions/postponed")


# --- Postponed Interactions --------------------------------------------------------------


@router.get("/interactions/postponed")
def postponed_list(request: Request, session: SessionDep, cursor: str = "") -> Any:
    user = page_user(request, session)
    params = ListParams(limit=PAGE_SIZE, cursor=cursor or None)
    stmt = queries.list_statement({"postponed": "true"})
    rows, next_cursor = keyset_page(session, stmt, [E.entry_no], params)
    context = {
        "user": user,
        "rows": rows,
        "names": queries.contact_names(session, rows),
        "next_url": f"/interactions/postponed?cursor={next_cursor}" if next_cursor else None,
    }
    return render(request, "postponed/list.html", context)
