"""Demo interaction groups and templates (with an HTML e-mail body and a Word letter),
Interaction Template Setup, and the campaigns of the year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy.orm import Session

from rapport.core import campaigns, merge, setup, templates
from rapport.core.attachments import MEDIA_TYPES
from rapport.core.campaigns import CampaignCreate
from rapport.core.enums import CorrespondenceType, InformationFlow, InitiatedBy, WizardAction
from rapport.core.templates import (
    InteractionGroupCreate,
    InteractionTemplateCreate,
    InteractionTemplateUpdate,
    TemplateLanguageCreate,
)
from rapport.demo.state import Demo

GROUPS = (("LETTER", "Letters"), ("MEETING", "Meetings"), ("PHONE", "Telephone calls"),
          ("EMAIL", "E-mails"), ("SALES", "Sales documents"), ("PURCHASE", "Purchase documents"))

OUT, IN = InformationFlow.OUTBOUND, InformationFlow.INBOUND
US, THEM = InitiatedBy.US, InitiatedBy.THEM
HARD_COPY, EMAIL, NONE = CorrespondenceType.HARD_COPY, CorrespondenceType.EMAIL, CorrespondenceType.BLANK


class _Template(NamedTuple):
    code: str
    group: str
    description: str
    cost: str
    minutes: int
    flow: InformationFlow
    by: InitiatedBy
    channel: CorrespondenceType


TEMPLATES = (
    _Template("BUS", "LETTER", "Business letter", "1.50", 15, OUT, US, HARD_COPY),
    _Template("ABSTRACT", "LETTER", "Meeting abstract", "1.50", 20, OUT, US, HARD_COPY),
    _Template("LTR-DOCX", "LETTER", "Letter (Word)", "1.50", 10, OUT, US, HARD_COPY),
    _Template("MEETINV", "MEETING", "Meeting invitation", "0.50", 5, OUT, US, EMAIL),
    _Template("MEETING", "MEETING", "Meeting with the contact", "45.00", 90, OUT, US, NONE),
    _Template("OUT-CALL", "PHONE", "Outgoing phone call", "0.40", 8, OUT, US, NONE),
    _Template("IN-CALL", "PHONE", "Incoming phone call", "0.00", 6, IN, THEM, NONE),
    _Template("EMAIL", "EMAIL", "E-mail", "0.10", 5, OUT, US, EMAIL),
    _Template("EMAIL-IN", "EMAIL", "E-mail received", "0.00", 3, IN, THEM, EMAIL),
    _Template("EMAIL-NEWS", "EMAIL", "E-mail newsletter", "0.05", 1, OUT, US, EMAIL),
    # Document logging templates: Interaction Template Setup wants them without languages.
    _Template("SQUOTE", "SALES", "Sales quote", "0.00", 0, OUT, US, EMAIL),
    _Template("SINV", "SALES", "Sales invoice", "0.00", 0, OUT, US, EMAIL),
    _Template("POINV", "PURCHASE", "Purchase invoice", "0.00", 0, IN, THEM, HARD_COPY),
)
TEMPLATE_SETUP = {
    "sales_quote": "SQUOTE", "sales_invoice": "SINV", "purchase_invoice": "POINV",
    "outgoing_calls": "OUT-CALL", "meeting_invitation": "MEETINV", "emails": "EMAIL",
}

NEWSLETTER = {
    "ENU": ("Kestrel Trading news", "en", (
        "Dear {{Contact_Name}},",
        "this season brings new lines from our partners and shorter delivery times across Europe.",
        "Ask {{Salesperson_Name}} for the new price list, or reply to this e-mail.",
        "Kind regards, Kestrel Trading",
    )),
    "FRA": ("Les nouvelles de Kestrel Trading", "fr", (
        "Bonjour {{Contact_Name}},",
        "cette saison apporte de nouvelles gammes et des délais de livraison plus courts en Europe.",
        "Demandez notre nouveau tarif à {{Salesperson_Name}}, ou répondez à ce courriel.",
        "Bien cordialement, Kestrel Trading",
    )),
}
LETTER_PARAGRAPHS = (
    "«Contact_Name»",
    "«Contact_Company_Name»",
    "«Contact_Address»",
    "«Contact_Post_Code» «Contact_City»",
    "",
    "«Interaction_Date»",
    "Dear «Contact_Name»,",
    "Thank you for your interest in Kestrel Trading. We enclose our current catalogue and price list.",
    "«Personal_Text»",
    "Yours sincerely,",
    "«Salesperson_Name»",
)


def load_templates(session: Session, demo: Demo) -> None:
    """Groups, templates with their languages and files, and Interaction Template Setup."""
    for code, description in GROUPS:
        if session.get(templates.InteractionGroup, code) is None:
            templates.create_group(session, InteractionGroupCreate(code=code, description=description))
    for t in TEMPLATES:
        if session.get(templates.InteractionTemplate, t.code) is None:
            templates.create_template(session, InteractionTemplateCreate(
                code=t.code, interaction_group_code=t.group, description=t.description,
                unit_cost=Decimal(t.cost), unit_duration_min=Decimal(t.minutes), information_flow=t.flow,
                initiated_by=t.by, correspondence_type_default=t.channel,
                # A hard-copy letter stays on paper even for contacts who prefer e-mail.
                ignore_contact_corres_type=t.channel == HARD_COPY,
            ))
            _add_content(session, t.code)
        demo.records.append(session.get(templates.InteractionTemplate, t.code))
        demo.records += templates.template_languages(session, t.code)
        demo.templates.append(t.code)
    setup.update_template_setup(session, TEMPLATE_SETUP)


def _add_content(session: Session, code: str) -> None:
    if code == "EMAIL-NEWS":
        for language, (subject, lang, paragraphs) in NEWSLETTER.items():
            templates.create_template_language(session, code, TemplateLanguageCreate(
                language_code=language, description=subject, subject=subject,
            ))
            body = _html(subject, lang, paragraphs)
            templates.set_language_attachment(session, code, language, f"newsletter-{lang}.html",
                                              MEDIA_TYPES["html"], body)
        # An HTML body in the default language makes the template merge.
        templates.update_template(session, code, InteractionTemplateUpdate(language_code_default="ENU"))
    elif code == "LTR-DOCX":
        templates.create_template_language(session, code, TemplateLanguageCreate(
            language_code="ENU", description="Letter with catalogue", subject="Our catalogue",
        ))
        templates.set_language_attachment(session, code, "ENU", "letter.docx", MEDIA_TYPES["docx"], _docx())
        templates.update_template(session, code, InteractionTemplateUpdate(
            language_code_default="ENU", wizard_action=WizardAction.MERGE,
        ))


def _html(title: str, lang: str, paragraphs: tuple[str, ...]) -> bytes:
    body = "\n".join(f"<p>{p}</p>" for p in ("{{Contact_Name}},", *paragraphs, "{{Salesperson_Name}}"))
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head><meta charset="utf-8"><title>{title}</title></head>\n'
        f"<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
    ).encode()


def _docx() -> bytes:
    """The catalogue letter: an address block and a salutation of MERGEFIELDs, as Word writes them."""
    return merge.make_docx(LETTER_PARAGRAPHS)


# --- campaigns -----------------------------------------------------------------------------


def load_campaigns(session: Session, demo: Demo, today: dt.date) -> None:
    """Two campaigns of the current year: a spring trade fair and the Christmas promotion."""
    year = today.year
    for description, start, end, salesperson in (
        ("Spring trade fair: invitations and follow-up", dt.date(year, 1, 1), dt.date(year, 5, 31), "AH"),
        ("Christmas promotion", dt.date(year, 10, 1), dt.date(year, 12, 31), "CL"),
    ):
        demo.campaigns.append(campaigns.create_campaign(session, CampaignCreate(
            description=description, starting_date=start, ending_date=end, salesperson_code=salesperson,
        )))
    demo.records += demo.campaigns

