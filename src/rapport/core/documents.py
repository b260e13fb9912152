"""Interactions recorded automatically when a document is printed, e-mailed or posted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from rapport.core import campaigns, setup, templates
from rapport.core.base import Code20, Int32, StrictModel, Text100
from rapport.core.contacts import Contact, ContactBusinessRelation
from rapport.core.enums import DocumentType, LinkToTable
from rapport.core.interactions.models import InteractionLogEntry
from rapport.core.interactions.recording import Draft, log_interaction, set_contact, set_template
from rapport.errors import Conflict, Invalid


class DocumentEvent(StrictModel):
    """A document was printed, sent or posted in the books."""

    document_type: DocumentType
    document_no: Code20
    version_no: Int32 = 0
    occurrence: Int32 = 0
    contact_no: Code20 | None = None
    customer_no: Code20 | None = None
    vendor_no: Code20 | None = None
    salesperson_code: Code20 | None = None
    campaign_no: Code20 | None = None
    description: Text100 | None = None
    opportunity_no: Code20 | None = None

    @field_validator("document_type", mode="before")
    @classmethod
    def _a_document_type(cls, value: Any) -> Any:
        """Blank is a Document Type of the log (manual interactions) but never the type of a document,
        so it is refused, and the message lists only the values a document can have."""
        if isinstance(value, str) and value in _DOCUMENT_TYPES:
            return value
        choices = ", ".join(f"'{v}'" for v in _DOCUMENT_TYPES)
        if value == "":
            raise PydanticCustomError("enum", "A document needs a type: one of {choices}.", {"choices": choices})
        raise PydanticCustomError("enum", "Input should be one of {choices}.", {"choices": choices})


_DOCUMENT_TYPES = tuple(d.value for d in DocumentType if d.value)
_ACCOUNTS = ("contact_no", "customer_no", "vendor_no")

def _check_account(event: DocumentEvent) -> None:
    """The document names its account exactly once: the Bill-to contact, else the customer or vendor."""
    given = [name for name in _ACCOUNTS if getattr(event, name)]
    if not given:
        raise Invalid(
            "The document names no account: give its Bill-to contact_no, or else its customer_no or vendor_no.",
            field="contact_no",
        )
    if len(given) > 1:
        raise Invalid(
            f"The document names {' and '.join(given)}: give only one (the Bill-to contact_no when there is "
            "one, else the customer_no or vendor_no).",
            field=given[0],
        )


@dataclass
class NotLogged:
    """Why a document event recorded nothing."""

    reason: str  # no_template | no_contact | privacy_blocked


def _contact_for(session: Session, event: DocumentEvent) -> Contact | None:
    if event.contact_no:
        return session.get(Contact, event.contact_no)
    link_to, link_no = (
        (LinkToTable.CUSTOMER, event.customer_no) if event.customer_no else (LinkToTable.VENDOR, event.vendor_no)
    )
    return session.scalar(
        select(Contact)
        .join(ContactBusinessRelation, ContactBusinessRelation.contact_no == Contact.no)
        .where(
            ContactBusinessRelation.link_to_table == link_to.value,
            ContactBusinessRelation.link_no == link_no,
        )
        .order_by(Contact.no)
        .limit(1)
    )


def log_document(session: Session, event: DocumentEvent, *, user_id: str) -> InteractionLogEntry | NotLogged:
    """Record the interaction Interaction Template Setup configures for the document type."""
    _check_account(event)
    template_code = setup.template_for(session, event.document_type)
    if not template_code:
        return NotLogged("no_template")
    template = templates.get_template(session, template_code)
    languages = templates.language_codes(session, template.code)
    if languages:
        raise Conflict(
            f"Interaction template {template.code} has language {languages[0] or '(blank)'}; templates "
            "used for document logging must have no languages. Remove them or set up another template.",
            field="document_type",
        )
    contact = _contact_for(session, event)
    if contact is None:
        return NotLogged("no_contact")
    if contact.privacy_blocked:
        return NotLogged("privacy_blocked")
    now = dt.datetime.now()
    draft = Draft(
        document_type=event.document_type,
        document_no=event.document_no,
        doc_no_occurrence=event.occurrence,
        version_no=event.version_no,
        date=now.date(),
        time_of_interaction=now.time().replace(microsecond=0),
        opportunity_no=event.opportunity_no or "",
    )
    set_contact(session, draft, contact)
    if event.salesperson_code:
        draft.salesperson_code = event.salesperson_code
    elif not event.contact_no:
        draft.salesperson_code = ""
    set_template(session, draft, contact, template.code)
    draft.description = event.description or template.description
    # Business Central's document logging sets no Subject on the line, and validating the template
    # clears it (domain.md 3.4.4 step 2, 3.22 step 5): a document's interaction has a blank subject.
    draft.subject = ""
    if event.campaign_no:
        draft.campaign_no = event.campaign_no
    if draft.salesperson_code:
        from rapport.core.masterdata import check_salesperson

        check_salesperson(session, draft.salesperson_code, "salesperson_code")
    if not draft.document_no:
        raise Invalid("document_no must not be blank.", field="document_no")
    if draft.campaign_no:
        campaigns.check_campaign(session, draft.campaign_no, "campaign_no")
    return log_interaction(session, draft, user_id=user_id)
