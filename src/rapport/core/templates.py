"""Interaction groups, interaction templates and their per-language content."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String, and_, exists, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from rapport.core import attachments, campaigns, masterdata, statistics
from rapport.core.attachments import Attachment
from rapport.core.base import Code10, Code20, Key10, StrictModel, Text100, get_or_404
from rapport.core.enums import CorrespondenceType, InformationFlow, InitiatedBy, WizardAction
from rapport.core.interactions.models import InteractionLogEntry
from rapport.core.setup import InteractionTemplateSetupSlot
from rapport.db import Base
from rapport.errors import Conflict, Invalid, NotFound


class InteractionGroup(Base):
    __tablename__ = "interaction_group"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")


class InteractionTemplate(Base):
    """How a kind of interaction is recorded: cost, duration, direction, channel, content."""

    __tablename__ = "interaction_template"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    interaction_group_code: Mapped[str] = mapped_column(ForeignKey("interaction_group.code"), index=True)
    description: Mapped[str] = mapped_column(String(100), default="")
    unit_cost: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    unit_duration_min: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    information_flow: Mapped[str] = mapped_column(String(20), default="")
    initiated_by: Mapped[str] = mapped_column(String(20), default="")
    campaign_no: Mapped[str] = mapped_column(String(20), default="")
    campaign_target: Mapped[bool] = mapped_column(Boolean, default=False)
    campaign_response: Mapped[bool] = mapped_column(Boolean, default=False)
    correspondence_type_default: Mapped[str] = mapped_column(String(20), default="email")
    wizard_action: Mapped[str] = mapped_column(String(20), default="")
    ignore_contact_corres_type: Mapped[bool] = mapped_column(Boolean, default=False)
    language_code_default: Mapped[str] = mapped_column(String(10), default="")


class InteractionTemplateLanguage(Base):
    """The content of a template in one language: description, subject, attachment."""

    __tablename__ = "interaction_template_language"

    interaction_template_code: Mapped[str] = mapped_column(
        ForeignKey("interaction_template.code", ondelete="CASCADE"), primary_key=True
    )
    language_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")
    subject: Mapped[str] = mapped_column(String(100), default="")
    attachment_no: Mapped[int | None] = mapped_column(Integer, nullable=True)


# --- input schemas -------------------------------------------------------------------------


class InteractionGroupCreate(StrictModel):
    code: Key10
    description: Text100 = ""


class InteractionGroupUpdate(StrictModel):
    description: Text100 | None = None


class InteractionTemplateCreate(StrictModel):
    code: Key10
    interaction_group_code: Key10
    description: Text100 = ""
    unit_cost: Decimal = Field(default=Decimal(0), ge=0, max_digits=18, decimal_places=2)
    unit_duration_min: Decimal = Field(default=Decimal(0), ge=0, max_digits=18, decimal_places=2)
    information_flow: InformationFlow = InformationFlow.BLANK
    initiated_by: InitiatedBy = InitiatedBy.BLANK
    campaign_no: Code20 = ""
    campaign_target: bool = False
    campaign_response: bool = False
    correspondence_type_default: CorrespondenceType = CorrespondenceType.EMAIL
    wizard_action: WizardAction = WizardAction.BLANK
    ignore_contact_corres_type: bool = False
    language_code_default: Code10 = ""


class InteractionTemplateUpdate(StrictModel):
    interaction_group_code: Key10 | None = None
    description: Text100 | None = None
    unit_cost: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    unit_duration_min: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    information_flow: InformationFlow | None = None
    initiated_by: InitiatedBy | None = None
    campaign_no: Code20 | None = None
    campaign_target: bool | None = None
    campaign_response: bool | None = None
    correspondence_type_default: CorrespondenceType | None = None
    wizard_action: WizardAction | None = None
    ignore_contact_corres_type: bool | None = None
    language_code_default: Code10 | None = None


class TemplateLanguageCreate(StrictModel):
    language_code: Code10
    description: Text100 = ""
    subject: Text100 = ""


class TemplateLanguageUpdate(StrictModel):
    description: Text100 | None = None
    subject: Text100 | None = None


# --- queries -------------------------------------------------------------------------------


def _key(code: str) -> str:
    return code.strip().upper()


def get_group(session: Session, code: str) -> InteractionGroup:
    """The interaction group, or NotFound."""
    return get_or_404(session, InteractionGroup, _key(code), "Interaction group")


def get_template(session: Session, code: str) -> InteractionTemplate:
    """The interaction template, or NotFound."""
    return get_or_404(session, InteractionTemplate, _key(code), "Interaction template")


def require_template(session: Session, code: str, field: str = "interaction_template_code") -> InteractionTemplate:
    """The template a request refers to, or Invalid naming the field (it is input, not a path)."""
    try:
        return get_template(session, code)
    except NotFound as exc:
        raise Invalid(f"Interaction template {code} does not exist.", field=field) from exc


def apply_to_line(line: Any, template: InteractionTemplate, contact_type: str, forced_type: str = "") -> None:
    """What choosing a template sets on a line or interaction (domain.md 3.4.4): group, description, cost,
    duration, direction, campaign flags, and the correspondence type — a forced type (the segment header's)
    first, then the template's when it ignores the contact's type or the contact has none, then the contact's,
    else unchanged. Language, attachment and campaign are the caller's, as they depend on the context."""
    previous = line.interaction_template_code
    line.interaction_template_code = template.code
    line.interaction_group_code = template.interaction_group_code
    if not line.description or (previous and previous != template.code):
        line.description = template.description
    line.cost = Decimal(template.unit_cost)
    line.duration_min = Decimal(template.unit_duration_min)
    line.information_flow = template.information_flow
    line.initiated_by = template.initiated_by
    line.campaign_target = template.campaign_target
    line.campaign_response = template.campaign_response
    if forced_type:
        line.correspondence_type = forced_type
    elif template.ignore_contact_corres_type or (not contact_type and template.correspondence_type_default):
        line.correspondence_type = template.correspondence_type_default
    elif contact_type:
        line.correspondence_type = contact_type


def template_language(session: Session, template_code: str, language_code: str) -> InteractionTemplateLanguage | None:
    """The template's row for the language, if it has one."""
    return session.get(InteractionTemplateLanguage, (_key(template_code), _key(language_code)))


def get_template_language(session: Session, template_code: str, language_code: str) -> InteractionTemplateLanguage:
    """The template's row for the language, or NotFound (also when the template does not exist)."""
    template = get_template(session, template_code)
    row = template_language(session, template.code, language_code)
    if row is None:
        raise NotFound(f"Interaction template {template.code} has no language {_key(language_code) or '(blank)'}.")
    return row


def language_codes(session: Session, template_code: str) -> list[str]:
    """The languages the template has rows for, in order."""
    return list(
        session.scalars(
            select(InteractionTemplateLanguage.language_code)
            .where(InteractionTemplateLanguage.interaction_template_code == _key(template_code))
            .order_by(InteractionTemplateLanguage.language_code)
        )
    )


def template_languages(session: Session, template_code: str) -> list[InteractionTemplateLanguage]:
    """The language rows of an existing template, in order."""
    template = get_template(session, template_code)
    return list(
        session.scalars(
            select(InteractionTemplateLanguage)
            .where(InteractionTemplateLanguage.interaction_template_code == template.code)
            .order_by(InteractionTemplateLanguage.language_code)
        )
    )


def find_language(session: Session, template_code: str, contact_language: str) -> str:
    """FindLanguage without a segment: the contact's language if the template has it, else its default."""
    template = session.get(InteractionTemplate, _key(template_code)) if template_code.strip() else None
    if template is None:
        return ""
    return language_row_for(session, template, contact_language)[0]


def language_row_for(
    session: Session, template: InteractionTemplate, contact_language: str
) -> tuple[str, InteractionTemplateLanguage | None]:
    """FindLanguage and that language's row at once (each row read once)."""
    row = template_language(session, template.code, contact_language)
    if row is not None:
        return _key(contact_language), row
    default = template.language_code_default
    if _key(default) == _key(contact_language):
        return default, None
    return default, template_language(session, template.code, default)


def attachment_for(session: Session, template_code: str, language_code: str) -> int | None:
    """The attachment of the template's row for the language (None when none)."""
    row = template_language(session, template_code, language_code)
    return row.attachment_no if row is not None else None


def default_attachments(session: Session, template_codes: list[str]) -> dict[str, int | None]:
    """Each template's Attachment No.: that of its row for Language Code (Default)."""
    result: dict[str, int | None] = dict.fromkeys(template_codes)
    if template_codes:
        rows = session.execute(
            select(InteractionTemplate.code, InteractionTemplateLanguage.attachment_no)
            .join(
                InteractionTemplateLanguage,
                and_(
                    InteractionTemplateLanguage.interaction_template_code == InteractionTemplate.code,
                    InteractionTemplateLanguage.language_code == InteractionTemplate.language_code_default,
                ),
            )
            .where(InteractionTemplate.code.in_(template_codes))
        )
        result.update({code: no for code, no in rows})
    return result


def template_statistics(
    session: Session, codes: list[str], date_from: dt.date | None = None, date_to: dt.date | None = None
) -> dict[str, statistics.Totals]:
    """No. of interactions, cost and duration per template (not canceled, not postponed)."""
    return statistics.totals_by(session, InteractionLogEntry.interaction_template_code, codes, date_from, date_to)


def group_statistics(
    session: Session, codes: list[str], date_from: dt.date | None = None, date_to: dt.date | None = None
) -> dict[str, statistics.Totals]:
    """No. of interactions, cost and duration per interaction group (not canceled, not postponed)."""
    return statistics.totals_by(session, InteractionLogEntry.interaction_group_code, codes, date_from, date_to)


# --- interaction groups --------------------------------------------------------------------


def create_group(session: Session, data: InteractionGroupCreate) -> InteractionGroup:
    """Add an interaction group; its code must be new."""
    return masterdata.create_record(session, InteractionGroup, "Interaction group", data.model_dump())


def update_group(session: Session, code: str, data: InteractionGroupUpdate) -> InteractionGroup:
    """Change an interaction group's description."""
    values = data.model_dump(exclude_unset=True)
    return masterdata.update_record(session, InteractionGroup, "Interaction group", code, values)


def delete_group(session: Session, code: str) -> None:
    """Delete an interaction group that no template uses."""
    group = get_group(session, code)
    used = session.scalar(select(exists().where(InteractionTemplate.interaction_group_code == group.code)))
    if used:
        raise Conflict(
            f"Interaction group {group.code} is used by interaction templates; "
            "move them to another group or delete them first."
        )
    session.delete(group)
    session.flush()


# --- interaction templates -----------------------------------------------------------------


def create_template(session: Session, data: InteractionTemplateCreate) -> InteractionTemplate:
    """Add an interaction template; a default language gets its language row."""
    if session.get(InteractionTemplate, data.code) is not None:
        raise Conflict(f"Interaction template {data.code} already exists.", field="code")
    values = data.model_dump()
    given = data.model_fields_set
    language = values.pop("language_code_default")
    wizard_action = values.pop("wizard_action")
    template = InteractionTemplate(**values, language_code_default="", wizard_action="")
    _check_group(session, template.interaction_group_code)
    campaigns.check_campaign(session, template.campaign_no, "campaign_no")
    session.add(template)
    session.flush()
    if language:
        _set_default_language(session, template, language)
    if "wizard_action" in given or wizard_action:
        _set_wizard_action(session, template, wizard_action)
    session.flush()
    return template


def update_template(session: Session, code: str, data: InteractionTemplateUpdate) -> InteractionTemplate:
    """Change an interaction template, following BC's field validations."""
    template = get_template(session, code)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise Invalid(f"{name} cannot be null.", field=name)
    language = changes.pop("language_code_default", None)
    wizard_action = changes.pop("wizard_action", None)
    if "interaction_group_code" in changes:
        _check_group(session, changes["interaction_group_code"])
    if "campaign_no" in changes:
        campaigns.check_campaign(session, changes["campaign_no"], "campaign_no")
    for name, value in changes.items():
        setattr(template, name, value)
    if language is not None and (language or language != template.language_code_default):
        _set_default_language(session, template, language)
    if wizard_action is not None:
        _set_wizard_action(session, template, wizard_action)
    session.flush()
    return template


def delete_template(session: Session, code: str) -> None:
    """Delete a template with its language rows and their attachments (read-only ones stay)."""
    template = get_template(session, code)
    slots = session.scalars(
        select(InteractionTemplateSetupSlot.slot)
        .where(InteractionTemplateSetupSlot.interaction_template_code == template.code)
        .order_by(InteractionTemplateSetupSlot.slot)
    ).all()
    if slots:
        raise Conflict(
            f"Interaction template {template.code} is used by Interaction Template Setup ({', '.join(slots)}); "
            "choose another template there first."
        )
    for row in template_languages(session, template.code):
        _drop_language_row(session, row)
    session.delete(template)
    session.flush()


def _check_group(session: Session, code: str) -> None:
    if not code:
        raise Invalid(
            "Interaction Group Code must have a value in Interaction Template.", field="interaction_group_code"
        )
    if session.get(InteractionGroup, code) is None:
        raise Invalid(f"Interaction group {code} does not exist.", field="interaction_group_code")


def _set_default_language(session: Session, template: InteractionTemplate, language: str) -> None:
    """Language Code (Default) validation: create the missing row, then follow its content."""
    row = template_language(session, template.code, language)
    if row is None and language:
        masterdata.check_language(session, language, "language_code_default")
        row = InteractionTemplateLanguage(
            interaction_template_code=template.code,
            language_code=language,
            description=template.description,
            subject="",
            attachment_no=None,
        )
        session.add(row)
        session.flush()
    template.language_code_default = language
    _follow_default_row(session, template)


def _row_attachment(session: Session, row: InteractionTemplateLanguage | None) -> Attachment | None:
    if row is None or row.attachment_no is None:
        return None
    return session.get(Attachment, row.attachment_no)


def _follow_default_row(session: Session, template: InteractionTemplate) -> None:
    """An HTML body in the default language is merged; without one or a .docx there is nothing to merge."""
    row = template_language(session, template.code, template.language_code_default)
    attachment = _row_attachment(session, row)
    if attachment is not None and attachment.is_html:
        template.wizard_action = WizardAction.MERGE.value
    elif template.wizard_action == WizardAction.MERGE.value and not (attachment is not None and attachment.is_word):
        template.wizard_action = WizardAction.BLANK.value


def _set_wizard_action(session: Session, template: InteractionTemplate, action: str) -> None:
    """Wizard Action validation (domain.md 1.4) against the default language's attachment."""
    action = WizardAction(action).value
    row = template_language(session, template.code, template.language_code_default)
    if row is not None:
        attachment = _row_attachment(session, row)
        language = template.language_code_default or "(blank)"
        html = attachment is not None and attachment.is_html
        word = attachment is not None and attachment.is_word
        merge = action == WizardAction.MERGE.value
        reason = ""
        if html and not merge:
            reason = f"its attachment for language {language} is an HTML e-mail body, which is always merged"
        elif attachment is None and merge:
            reason = f"it has no attachment for language {language} to merge"
        elif merge and not html and not word:
            reason = f"its attachment for language {language} is neither a Word document (.docx) nor an HTML body"
        elif word and action == WizardAction.IMPORT.value:
            reason = f"its attachment for language {language} is a Word document (.docx) with merge fields"
        if reason:
            raise Invalid(
                f"Wizard Action = {action} can not be specified for Interaction Template {template.code}: {reason}.",
                field="wizard_action",
            )
    template.wizard_action = action


# --- template languages --------------------------------------------------------------------


def create_template_language(
    session: Session, template_code: str, data: TemplateLanguageCreate
) -> InteractionTemplateLanguage:
    """Add a language row to a template; the language must exist (blank is allowed)."""
    template = get_template(session, template_code)
    masterdata.check_language(session, data.language_code, "language_code")
    if template_language(session, template.code, data.language_code) is not None:
        raise Conflict(
            f"Interaction template {template.code} already has language {data.language_code or '(blank)'}.",
            field="language_code",
        )
    row = InteractionTemplateLanguage(
        interaction_template_code=template.code,
        language_code=data.language_code,
        description=data.description,
        subject=data.subject,
        attachment_no=None,
    )
    session.add(row)
    session.flush()
    return row


def update_template_language(
    session: Session, template_code: str, language_code: str, data: TemplateLanguageUpdate
) -> InteractionTemplateLanguage:
    """Change a language row's description or subject."""
    row = get_template_language(session, template_code, language_code)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None:
            raise Invalid(f"{name} cannot be null.", field=name)
        setattr(row, name, value)
    session.flush()
    return row


def delete_template_language(session: Session, template_code: str, language_code: str) -> None:
    """Delete a language row with its attachment; the template loses it as default language."""
    row = get_template_language(session, template_code, language_code)
    template = get_template(session, row.interaction_template_code)
    _drop_language_row(session, row)
    if template.language_code_default == row.language_code:
        template.language_code_default = ""
    session.flush()


def _drop_language_row(session: Session, row: InteractionTemplateLanguage) -> None:
    attachment = _row_attachment(session, row)
    if attachment is not None and not attachment.read_only:
        attachments.remove_attachment(session, attachment.no)
    session.delete(row)
    session.flush()


def language_attachment(session: Session, template_code: str, language_code: str) -> Attachment:
    """The attachment of a template language row, or NotFound."""
    row = get_template_language(session, template_code, language_code)
    attachment = _row_attachment(session, row)
    if attachment is None:
        raise NotFound(
            f"Interaction template {row.interaction_template_code} has no attachment for language "
            f"{row.language_code or '(blank)'}."
        )
    return attachment


def set_language_attachment(
    session: Session, template_code: str, language_code: str, file_name: str, media_type: str, data: bytes
) -> tuple[Attachment, bool]:
    """Upload the file of a language row: a new attachment (True) or the replaced one (False)."""
    row = get_template_language(session, template_code, language_code)
    current = _row_attachment(session, row)
    if current is not None:
        attachment = attachments.replace_content(session, current.no, file_name, media_type, data)
        created = False
    else:
        attachment = attachments.store_attachment(session, file_name, media_type, data)
        row.attachment_no = attachment.no
        created = True
    _after_content_change(session, row)
    session.flush()
    return attachment, created


def remove_language_attachment(session: Session, template_code: str, language_code: str) -> None:
    """Remove the attachment of a language row; refused when it is read-only."""
    row = get_template_language(session, template_code, language_code)
    attachment = language_attachment(session, template_code, language_code)
    if attachment.read_only:
        raise Conflict("The attachment is read-only because logged interactions use it.")
    attachments.remove_attachment(session, attachment.no)
    row.attachment_no = None
    _after_content_change(session, row)
    session.flush()


def _after_content_change(session: Session, row: InteractionTemplateLanguage) -> None:
    template = get_template(session, row.interaction_template_code)
    if template.language_code_default == row.language_code:
        _follow_default_row(session, template)
