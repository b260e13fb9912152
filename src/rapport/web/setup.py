"""Setup pages: number series, salespeople, contact dimensions, languages, Interaction Template Setup and
Marketing Setup."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from rapport.accounts import User
from rapport.api.deps import SessionDep, commit
from rapport.core import masterdata, statistics
from rapport.core import setup as core_setup
from rapport.core.enums import AttachmentStorageType, CorrespondenceType
from rapport.core.interactions import InteractionLogEntry
from rapport.core.masterdata import Language, Salesperson
from rapport.core.setup import NumberSeries
from rapport.errors import RapportError
from rapport.filters import field_specs
from rapport.web.common import check_csrf, flash, form_errors, page_user, redirect, render
from rapport.web.i18n import _
from rapport.web.masterdata import (
    LANGUAGES,
    NUMBER_SERIES,
    SALESPEOPLE,
    TEMPLATES,
    WRITE,
    Field,
    Table,
    code_table,
    description_fields,
    enum_options,
    failure_status,
    field_input,
    record_values,
    register,
)

router = APIRouter()

# --- number series, salespeople, contact dimensions, languages -------------------------------


def number_series_table() -> Table:
    return Table(
        "number-series",
        _("Number series"),
        NumberSeries,
        (
            Field("code", _("Code"), required=True),
            Field("description", _("Description")),
            Field("starting_no", _("Starting no."), help=_("Ends in digits, e.g. SEG00001.")),
            Field("ending_no", _("Ending no.")),
            Field("increment_by", _("Increment-by no."), "number", in_list=False),
            Field("last_no_used", _("Last no. used")),
            Field("manual_nos", _("Manual nos."), "checkbox"),
        ),
        get=core_setup.get_number_series,
        create=lambda s, v: core_setup.create_number_series(s, core_setup.NumberSeriesCreate.model_validate(v)),
        update=lambda s, code, v: core_setup.update_number_series(
            s, code, core_setup.NumberSeriesUpdate.model_validate(v)
        ),
        delete=core_setup.delete_number_series,
        filters=field_specs(NumberSeries),
        defaults={"increment_by": 1, "manual_nos": True},
    )


def salesperson_statistics(
    session: Session, codes: list[str], date_from: dt.date | None, date_to: dt.date | None
) -> dict[str, statistics.Totals]:
    return statistics.totals_by(session, InteractionLogEntry.salesperson_code, codes, date_from, date_to)


def salesperson_table() -> Table:
    return Table(
        "salespeople",
        _("Salespeople"),
        fields=(
            Field("code", _("Code"), required=True),
            Field("name", _("Name")),
            Field("email", _("Email"), "email"),
            Field("phone_no", _("Phone no.")),
            Field("blocked", _("Blocked"), "checkbox"),
        ),
        statistics=salesperson_statistics,
        filters=field_specs(Salesperson),
        links=lambda p: [(_("Create interaction"), f"/interactions/new?{urlencode({'salesperson_code': p.code})}")],
        **code_table(
            Salesperson,
            "Salesperson",
            masterdata.SalespersonCreate,
            masterdata.SalespersonUpdate,
            masterdata.delete_salesperson,
        ),
    )


def dimension_table(path: str) -> Table:
    """Mailing groups, industry groups, job responsibilities or business relations."""
    titles = {
        "mailing-groups": _("Mailing groups"),
        "industry-groups": _("Industry groups"),
        "job-responsibilities": _("Job responsibilities"),
        "business-relations": _("Business relations"),
    }
    model, what = masterdata.DIMENSIONS[path]
    ops = code_table(
        model,
        what,
        masterdata.CodeDescriptionCreate,
        masterdata.CodeDescriptionUpdate,
        lambda session, code: masterdata.delete_dimension(session, path, code),
    )
    return Table(path, titles[path], fields=description_fields(), filters=field_specs(model), **ops)


def language_table() -> Table:
    return Table(
        "languages",
        _("Languages"),
        fields=(Field("code", _("Code"), required=True), Field("name", _("Name"))),
        filters=field_specs(Language),
        **code_table(
            Language,
            "Language",
            masterdata.LanguageCreate,
            masterdata.LanguageUpdate,
            masterdata.delete_language,
        ),
    )


register(router, "number-series", number_series_table)
register(router, "salespeople", salesperson_table)
for _path in masterdata.DIMENSIONS:
    register(router, _path, partial(dimension_table, _path))
register(router, "languages", language_table)


# --- Interaction Template Setup ------------------------------------------------------------


def slot_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The slots of Interaction Template Setup in BC's page groups, labelled."""
    return [
        (
            _("General"),
            [
                ("emails", _("E-mails")),
                ("email_draft", _("E-mail draft")),
                ("cover_sheets", _("Cover sheets")),
                ("outgoing_calls", _("Outgoing calls")),
                ("meeting_invitation", _("Meeting invitation")),
            ],
        ),
        (
            _("Sales"),
            [
                ("sales_invoice", _("Invoices")),
                ("sales_credit_memo", _("Credit memos")),
                ("sales_order_confirmation", _("Order confirmations")),
                ("sales_draft_invoice", _("Draft invoices")),
                ("sales_quote", _("Quotes")),
                ("sales_blanket_order", _("Blanket orders")),
                ("sales_shipment_note", _("Shipment notes")),
                ("sales_statement", _("Statements")),
                ("sales_reminder", _("Reminders")),
                ("sales_return_order", _("Return orders")),
                ("sales_return_receipt", _("Return receipts")),
                ("sales_finance_charge_memo", _("Finance charge memos")),
            ],
        ),
        (
            _("Purchases"),
            [
                ("purchase_invoice", _("Invoices")),
                ("purchase_credit_memo", _("Credit memos")),
                ("purchase_order", _("Orders")),
                ("purchase_quote", _("Quotes")),
                ("purchase_blanket_order", _("Blanket orders")),
                ("purchase_receipt", _("Receipts")),
                ("purchase_return_shipment", _("Return shipments")),
                ("purchase_return_order_confirmation", _("Return order confirmations")),
            ],
        ),
        (
            _("Service"),
            [
                ("service_order_create", _("Service order create")),
                ("service_order_post", _("Service order post")),
                ("service_contract", _("Contracts")),
                ("service_contract_quote", _("Contract quotes")),
                ("service_quote", _("Quotes")),
            ],
        ),
    ]


def template_setup_page(
    request: Request,
    session: Session,
    user: User,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Any:
    context = {
        "user": user,
        "groups": slot_groups(),
        "options": TEMPLATES(session),
        "values": values if values is not None else core_setup.get_template_setup(session),
        "errors": errors or {},
    }
    return render(request, "setup/template_setup.html", context, status_code=status_code)


@router.get("/setup/interaction-template-setup")
def show_template_setup(request: Request, session: SessionDep) -> Any:
    return template_setup_page(request, session, page_user(request, session))


@router.post("/setup/interaction-template-setup")
async def save_template_setup(request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, WRITE)
    slots = [slot for _group, group_slots in slot_groups() for slot, _label in group_slots]
    values = field_input([Field(slot, "") for slot in slots], form)
    try:
        core_setup.update_template_setup(session, values)
        commit(session)
    except RapportError as exc:
        session.rollback()
        return template_setup_page(request, session, user, values, form_errors(exc), failure_status(exc))
    flash(request, _("Interaction Template Setup was saved."))
    return redirect("/setup/interaction-template-setup")


# --- Marketing Setup -----------------------------------------------------------------------


def marketing_groups() -> list[tuple[str, list[Field]]]:
    """The fields of Marketing Setup in the groups of its page."""
    storage = [
        (AttachmentStorageType.EMBEDDED.value, _("Embedded")),
        (AttachmentStorageType.DISK_FILE.value, _("Disk file")),
    ]
    return [
        (
            _("Numbering"),
            [
                Field("contact_nos", _("Contact nos."), "select", NUMBER_SERIES),
                Field("segment_nos", _("Segment nos."), "select", NUMBER_SERIES),
                Field("campaign_nos", _("Campaign nos."), "select", NUMBER_SERIES),
            ],
        ),
        (
            _("Defaults for new contacts"),
            [
                Field(
                    "default_correspondence_type",
                    _("Default correspondence type"),
                    "select",
                    enum_options(CorrespondenceType),
                ),
                Field("default_language_code", _("Default language code"), "select", LANGUAGES),
                Field("default_salesperson_code", _("Default salesperson code"), "select", SALESPEOPLE),
                Field("default_country_code", _("Default country/region code")),
            ],
        ),
        (
            _("Inheritance from the company"),
            [
                Field("inherit_salesperson_code", _("Inherit salesperson code"), "checkbox"),
                Field("inherit_language_code", _("Inherit language code"), "checkbox"),
                Field("inherit_address_details", _("Inherit address details"), "checkbox"),
                Field("inherit_communication_details", _("Inherit communication details"), "checkbox"),
            ],
        ),
        (
            _("Attachments"),
            [
                Field("attachment_storage_type", _("Attachment storage type"), "select", lambda session: storage),
                Field(
                    "attachment_storage_location",
                    _("Attachment storage location"),
                    help=_("A folder on the server; required when attachments are stored on disk."),
                ),
            ],
        ),
    ]


def marketing_page(
    request: Request,
    session: Session,
    user: User,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Any:
    groups = marketing_groups()
    fields = [f for _title, group in groups for f in group]
    context = {
        "user": user,
        "groups": [(title, [(f, f.options(session) if f.options else None) for f in group]) for title, group in groups],
        "values": values if values is not None else record_values(fields, core_setup.get_marketing_setup(session)),
        "errors": errors or {},
    }
    return render(request, "setup/marketing.html", context, status_code=status_code)


@router.get("/setup/marketing")
def show_marketing_setup(request: Request, session: SessionDep) -> Any:
    return marketing_page(request, session, page_user(request, session))


@router.post("/setup/marketing")
async def save_marketing_setup(request: Request, session: SessionDep) -> Any:
    form = await check_csrf(request)
    user = page_user(request, session, WRITE)
    values = field_input([f for _title, group in marketing_groups() for f in group], form)
    try:
        core_setup.update_marketing_setup(session, core_setup.MarketingSetupUpdate.model_validate(values))
        commit(session)
    except (RapportError, ValidationError) as exc:
        session.rollback()
        return marketing_page(request, session, user, values, form_errors(exc), failure_status(exc))
    flash(request, _("Marketing Setup was saved."))
    return redirect("/setup/marketing")
