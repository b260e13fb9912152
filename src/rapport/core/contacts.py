"""Contacts (companies and their persons) and their assignments to the contact dimensions."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy import Boolean, ForeignKey, Index, String, delete, exists, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from rapport.core import setup
from rapport.core.base import Code10, Code20, Key10, StrictModel, Text30, Text50, Text100, get_or_404
from rapport.core.enums import ContactType, CorrespondenceType, LinkToTable, captions
from rapport.core.masterdata import (
    EMAIL_PATTERN,
    BusinessRelation,
    IndustryGroup,
    JobResponsibility,
    MailingGroup,
    ProfileAnswer,
    check_language,
    check_salesperson,
)
from rapport.db import Base
from rapport.errors import Conflict, Invalid
from rapport.filters import FieldKind, field_specs

# Fields a person takes from its company, by Marketing Setup inherit flag.
INHERITED_FIELDS: dict[str, tuple[str, ...]] = {
    "inherit_salesperson_code": ("salesperson_code",),
    "inherit_language_code": ("language_code",),
    "inherit_address_details": ("address", "address_2", "post_code", "city", "country_code", "territory_code"),
    "inherit_communication_details": ("phone_no",),
}


class Contact(Base):
    """A company or a person."""

    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_company_order", "company_name", "company_no", "type", "name"),)

    no: Mapped[str] = mapped_column(String(20), primary_key=True)
    type: Mapped[str] = mapped_column(String(10), default=ContactType.COMPANY.value)
    name: Mapped[str] = mapped_column(String(100), default="", index=True)
    search_name: Mapped[str] = mapped_column(String(100), default="", index=True)
    company_no: Mapped[str] = mapped_column(String(20), default="", index=True)
    company_name: Mapped[str] = mapped_column(String(100), default="")
    lookup_contact_no: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(100), default="")
    address_2: Mapped[str] = mapped_column(String(50), default="")
    post_code: Mapped[str] = mapped_column(String(20), default="", index=True)
    city: Mapped[str] = mapped_column(String(30), default="", index=True)
    country_code: Mapped[str] = mapped_column(String(10), default="", index=True)
    territory_code: Mapped[str] = mapped_column(String(10), default="", index=True)
    phone_no: Mapped[str] = mapped_column(String(30), default="")
    mobile_phone_no: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(80), default="", index=True)
    job_title: Mapped[str] = mapped_column(String(30), default="")
    language_code: Mapped[str] = mapped_column(String(10), default="", index=True)
    salesperson_code: Mapped[str] = mapped_column(String(20), default="", index=True)
    correspondence_type: Mapped[str] = mapped_column(String(20), default="")
    exclude_from_segment: Mapped[bool] = mapped_column(Boolean, default=False)
    privacy_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    minor: Mapped[bool] = mapped_column(Boolean, default=False)
    parental_consent_received: Mapped[bool] = mapped_column(Boolean, default=False)


def _contact_fk() -> Any:
    return ForeignKey("contact.no", ondelete="CASCADE", onupdate="CASCADE")


class ContactMailingGroup(Base):
    __tablename__ = "contact_mailing_group"

    contact_no: Mapped[str] = mapped_column(_contact_fk(), primary_key=True)
    mailing_group_code: Mapped[str] = mapped_column(ForeignKey("mailing_group.code"), primary_key=True, index=True)


class ContactIndustryGroup(Base):
    __tablename__ = "contact_industry_group"

    contact_no: Mapped[str] = mapped_column(_contact_fk(), primary_key=True)
    industry_group_code: Mapped[str] = mapped_column(ForeignKey("industry_group.code"), primary_key=True, index=True)


class ContactJobResponsibility(Base):
    __tablename__ = "contact_job_responsibility"

    contact_no: Mapped[str] = mapped_column(_contact_fk(), primary_key=True)
    job_responsibility_code: Mapped[str] = mapped_column(
        ForeignKey("job_responsibility.code"), primary_key=True, index=True
    )


class ContactBusinessRelation(Base):
    """A company's link to a customer, vendor, bank account or employee of the books."""

    __tablename__ = "contact_business_relation"
    __table_args__ = (Index("ix_cbr_link", "link_to_table", "link_no"),)

    contact_no: Mapped[str] = mapped_column(_contact_fk(), primary_key=True)
    business_relation_code: Mapped[str] = mapped_column(
        ForeignKey("business_relation.code"), primary_key=True, index=True
    )
    link_to_table: Mapped[str] = mapped_column(String(20), default="")
    link_no: Mapped[str] = mapped_column(String(20), default="")


class ContactProfileAnswer(Base):
    __tablename__ = "contact_profile_answer"
    __table_args__ = (Index("ix_cpa_answer", "questionnaire_code", "answer_code"),)

    contact_no: Mapped[str] = mapped_column(_contact_fk(), primary_key=True)
    questionnaire_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    answer_code: Mapped[str] = mapped_column(String(10), primary_key=True)


# Filter expressions on contacts (lists, export, segment criteria).
CONTACT_FILTER_FIELDS = field_specs(
    Contact,
    kinds={"phone_no": FieldKind.TEXT, "mobile_phone_no": FieldKind.TEXT},
    enums={"type": captions(ContactType), "correspondence_type": captions(CorrespondenceType)},
)


# --- input schemas -------------------------------------------------------------------------

class _ContactFields(StrictModel):
    name: Text100 | None = None
    search_name: Text100 | None = None
    company_no: Code20 | None = None
    address: Text100 | None = None
    address_2: Text50 | None = None
    post_code: Code20 | None = None
    city: Text30 | None = None
    country_code: Code10 | None = None
    territory_code: Code10 | None = None
    phone_no: Text30 | None = None
    mobile_phone_no: Text30 | None = None
    email: str | None = Field(default=None, max_length=80, pattern=EMAIL_PATTERN)
    job_title: Text30 | None = None
    language_code: Code10 | None = None
    salesperson_code: Code20 | None = None
    correspondence_type: CorrespondenceType | None = None
    exclude_from_segment: bool | None = None
    privacy_blocked: bool | None = None
    minor: bool | None = None
    parental_consent_received: bool | None = None


class ContactCreate(_ContactFields):
    no: Code20 = ""
    type: ContactType = ContactType.COMPANY


class ContactUpdate(_ContactFields):
    type: ContactType | None = None


class BusinessRelationLink(StrictModel):
    business_relation_code: Key10
    link_to_table: LinkToTable = LinkToTable.BLANK
    link_no: Code20 = ""


class ProfileAnswerLink(StrictModel):
    questionnaire_code: Key10
    answer_code: Key10


# --- queries -----------------------------------------------------------------------------


def get_contact(session: Session, no: str) -> Contact:
    return get_or_404(session, Contact, no.strip().upper(), "Contact")


def persons_of(session: Session, company_no: str) -> list[Contact]:
    """The persons of a company, by name."""
    return list(
        session.scalars(
            select(Contact)
            .where(Contact.company_no == company_no, Contact.type == ContactType.PERSON.value)
            .order_by(Contact.name, Contact.no)
        )
    )


def has_interactions(session: Session, contact: Contact) -> bool:
    from rapport.core.interactions import InteractionLogEntry as E

    return bool(
        session.scalar(select(exists().where(E.contact_company_no == contact.company_no, E.contact_no == contact.no)))
    )


# --- commands ----------------------------------------------------------------------------


def _company(session: Session, no: str) -> Contact:
    company = session.get(Contact, no)
    if company is None:
        raise Invalid(f"Company contact {no} does not exist.", field="company_no")
    if company.type != ContactType.COMPANY.value:
        raise Invalid(f"Contact {no} is a person, not a company.", field="company_no")
    return company


def _check_references(session: Session, contact: Contact) -> None:
    check_language(session, contact.language_code, "language_code")
    check_salesperson(session, contact.salesperson_code, "salesperson_code")


def _apply_privacy(contact: Contact, changes: dict[str, Any]) -> None:
    """BC's rules: setting Minor or Parental Consent Received blocks the contact unless the request
    says otherwise, and a minor is blocked until consent is received. An explicit
    `privacy_blocked: false` that the rule forbids is refused, never silently overridden."""
    if "privacy_blocked" not in changes and (changes.get("minor") or changes.get("parental_consent_received")):
        contact.privacy_blocked = True
    if not contact.minor or contact.parental_consent_received or contact.privacy_blocked:
        return
    if "privacy_blocked" in changes:
        raise Invalid(
            f"Privacy Blocked cannot be cleared for minor contact {contact.no} until parental consent is received.",
            field="privacy_blocked",
        )
    if "parental_consent_received" in changes:  # consent withdrawn: the minor is blocked again
        contact.privacy_blocked = True


def create_contact(session: Session, data: ContactCreate) -> Contact:
    """Insert a company or person with the defaults of its company and Marketing Setup."""
    ms = setup.get_marketing_setup(session)
    given = data.model_dump(exclude_unset=True, exclude_none=True)
    no = given.pop("no", "")
    if no:
        setup.check_manual_no(session, ms.contact_nos, no)
        if session.get(Contact, no) is not None:
            raise Conflict(f"Contact {no} already exists.", field="no")
    else:
        no = setup.next_no(session, ms.contact_nos, "contact_nos")
        if session.get(Contact, no) is not None:
            raise Conflict(f"Contact {no} already exists; the number series is behind.", field="no")
    contact = Contact(
        no=no, **{c.key: c.default.arg for c in Contact.__table__.columns if c.default is not None and c.key != "no"}
    )
    contact.type = given.pop("type", ContactType.COMPANY.value)
    for name, value in given.items():
        setattr(contact, name, value)
    if contact.type == ContactType.COMPANY.value:
        if contact.company_no and contact.company_no != no:
            raise Invalid("A company's company_no is its own number.", field="company_no")
        contact.company_no = no
        contact.company_name = contact.name
        contact.lookup_contact_no = ""
    else:
        contact.lookup_contact_no = no
        if contact.company_no:
            company = _company(session, contact.company_no)
            contact.company_name = company.name
            for flag, fields in INHERITED_FIELDS.items():
                if getattr(ms, flag):
                    for f in fields:
                        if f not in given:
                            setattr(contact, f, getattr(company, f))
    if not contact.search_name:
        contact.search_name = contact.name.upper()
    for field, default in (
        ("correspondence_type", ms.default_correspondence_type),
        ("salesperson_code", ms.default_salesperson_code),
        ("language_code", ms.default_language_code),
        ("country_code", ms.default_country_code),
    ):
        if not getattr(contact, field):
            setattr(contact, field, default)
    _apply_privacy(contact, given)
    _check_references(session, contact)
    session.add(contact)
    session.flush()
    return contact


def update_contact(session: Session, no: str, data: ContactUpdate) -> Contact:
    """Change a contact; a company's changes flow to its persons as Marketing Setup says."""
    contact = get_contact(session, no)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise Invalid(f"{name} cannot be null.", field=name)
    old = {c.key: getattr(contact, c.key) for c in Contact.__table__.columns}
    new_type = changes.pop("type", contact.type)
    if new_type != contact.type:
        _change_type(session, contact, new_type)
    for name, value in changes.items():
        setattr(contact, name, value)
    if "name" in changes and "search_name" not in changes and old["search_name"] in ("", old["name"].upper()):
        contact.search_name = contact.name.upper()
    ms = setup.get_marketing_setup(session)
    if contact.type == ContactType.COMPANY.value:
        if changes.get("company_no", contact.no) != contact.no:
            raise Invalid("A company's company_no is its own number.", field="company_no")
        contact.company_no = contact.no
        contact.company_name = contact.name
        if contact.name != old["name"]:
            session.execute(
                update(Contact)
                .where(Contact.company_no == contact.no, Contact.no != contact.no)
                .values(company_name=contact.name)
            )
        _cascade_to_persons(session, contact, old, ms)
    elif contact.company_no != old["company_no"]:
        _move_person(session, contact, old, changes, ms)
    _apply_privacy(contact, changes)
    _check_references(session, contact)
    session.flush()
    return contact


def _change_type(session: Session, contact: Contact, new_type: str) -> None:
    from rapport.core import segments_guard

    if has_interactions(session, contact):
        raise Conflict(
            "Type cannot be changed because one or more interaction log entries are linked to the contact.",
            field="type",
        )
    if contact.type == ContactType.COMPANY.value and persons_of(session, contact.no):
        raise Conflict("Type cannot be changed while the company has persons.", field="type")
    # the company number changes with the type: refused while the contact is on a segment line
    segments_guard.check_company_change(session, contact.no)
    if contact.type == ContactType.COMPANY.value:
        contact.company_no = ""
        contact.company_name = ""
        contact.lookup_contact_no = contact.no
    else:
        contact.company_no = contact.no
        contact.lookup_contact_no = ""
    contact.type = new_type


def _cascade_to_persons(session: Session, company: Contact, old: dict[str, Any], ms: Any) -> None:
    for flag, fields in INHERITED_FIELDS.items():
        if not getattr(ms, flag):
            continue
        for f in fields:
            if getattr(company, f) != old[f]:
                session.execute(
                    update(Contact)
                    .where(
                        Contact.company_no == company.no,
                        Contact.no != company.no,
                        getattr(Contact, f) == old[f],
                    )
                    .values({f: getattr(company, f)})
                )


def _move_person(session: Session, person: Contact, old: dict[str, Any], changes: dict[str, Any], ms: Any) -> None:
    from rapport.core import segments_guard

    segments_guard.check_company_change(session, person.no)
    if not person.company_no:
        person.company_name = ""
        return
    if person.company_no == person.no:
        raise Invalid("A person cannot be its own company.", field="company_no")
    company = _company(session, person.company_no)
    person.company_name = company.name
    old_company = session.get(Contact, old["company_no"]) if old["company_no"] else None
    for flag, fields in INHERITED_FIELDS.items():
        if getattr(ms, flag):
            for f in fields:
                if f in changes:
                    continue
                current = getattr(person, f)
                if not current or (old_company is not None and current == getattr(old_company, f)):
                    setattr(person, f, getattr(company, f))


def delete_contact(session: Session, no: str) -> None:
    """Delete a contact (a company with its persons); the log keeps its entries."""
    from rapport.core import segments_guard
    from rapport.core.interactions import InteractionLogEntry as E

    contact = get_contact(session, no)
    doomed = [contact.no]
    if contact.type == ContactType.COMPANY.value:
        doomed += [p.no for p in persons_of(session, contact.no)]
    segments_guard.check_delete(session, doomed)
    if contact.type == ContactType.COMPANY.value:
        session.execute(
            update(E).where(E.contact_company_no == contact.no).values(contact_company_no="", contact_no="")
        )
        session.execute(delete(Contact).where(Contact.company_no == contact.no, Contact.no != contact.no))
    else:
        session.execute(
            update(E)
            .where(E.contact_no == contact.no, E.contact_company_no == contact.company_no)
            .values(contact_no=contact.company_no)
        )
    session.delete(contact)
    session.flush()


# --- assignments -------------------------------------------------------------------------

ASSIGNMENTS: dict[str, tuple[type[Any], str, type[Any], str]] = {
    "mailing-groups": (ContactMailingGroup, "mailing_group_code", MailingGroup, "Mailing group"),
    "industry-groups": (ContactIndustryGroup, "industry_group_code", IndustryGroup, "Industry group"),
    "job-responsibilities": (
        ContactJobResponsibility,
        "job_responsibility_code",
        JobResponsibility,
        "Job responsibility",
    ),
}


def get_assigned_codes(session: Session, no: str, kind: str) -> list[str]:
    """The codes of one dimension assigned to the contact, sorted."""
    link, column, _, _ = ASSIGNMENTS[kind]
    contact = get_contact(session, no)
    col = getattr(link, column)
    return list(session.scalars(select(col).where(link.contact_no == contact.no).order_by(col)))


def set_assigned_codes(session: Session, no: str, kind: str, codes: list[str]) -> list[str]:
    """Replace the contact's set of codes of one dimension."""
    link, column, model, what = ASSIGNMENTS[kind]
    contact = get_contact(session, no)
    if kind == "industry-groups" and contact.type != ContactType.COMPANY.value:
        raise Invalid("Industry groups are assigned to companies, not persons.", field="codes")
    wanted = sorted({c.strip().upper() for c in codes})
    for code in wanted:
        if session.get(model, code) is None:
            raise Invalid(f"{what} {code} does not exist.", field="codes")
    session.execute(delete(link).where(link.contact_no == contact.no))
    session.add_all(link(contact_no=contact.no, **{column: code}) for code in wanted)
    session.flush()
    return wanted


def get_business_relations(session: Session, no: str) -> list[ContactBusinessRelation]:
    contact = get_contact(session, no)
    return list(
        session.scalars(
            select(ContactBusinessRelation)
            .where(ContactBusinessRelation.contact_no == contact.no)
            .order_by(ContactBusinessRelation.business_relation_code)
        )
    )


def set_business_relations(
    session: Session, no: str, links: list[BusinessRelationLink]
) -> list[ContactBusinessRelation]:
    """Replace a company's business relations."""
    contact = get_contact(session, no)
    if contact.type != ContactType.COMPANY.value:
        raise Invalid("Business relations are kept on companies, not persons.", field="business_relation_code")
    codes = [link.business_relation_code for link in links]
    if len(codes) != len(set(codes)):
        raise Invalid("A business relation may appear only once.", field="business_relation_code")
    for link in links:
        if session.get(BusinessRelation, link.business_relation_code) is None:
            raise Invalid(
                f"Business relation {link.business_relation_code} does not exist.",
                field="business_relation_code",
            )
        if bool(link.link_to_table) != bool(link.link_no):
            raise Invalid("link_to_table and link_no go together.", field="link_no")
    session.execute(delete(ContactBusinessRelation).where(ContactBusinessRelation.contact_no == contact.no))
    session.add_all(ContactBusinessRelation(contact_no=contact.no, **link.model_dump()) for link in links)
    session.flush()
    return get_business_relations(session, contact.no)


def get_profile_answers(session: Session, no: str) -> list[ContactProfileAnswer]:
    contact = get_contact(session, no)
    return list(
        session.scalars(
            select(ContactProfileAnswer)
            .where(ContactProfileAnswer.contact_no == contact.no)
            .order_by(ContactProfileAnswer.questionnaire_code, ContactProfileAnswer.answer_code)
        )
    )


def set_profile_answers(session: Session, no: str, answers: list[ProfileAnswerLink]) -> list[ContactProfileAnswer]:
    """Replace the contact's profile answers; each must be an answer of its questionnaire."""
    contact = get_contact(session, no)
    pairs = {(a.questionnaire_code, a.answer_code) for a in answers}
    for q, a in sorted(pairs):
        if session.get(ProfileAnswer, (q, a)) is None:
            raise Invalid(f"Questionnaire {q} has no answer {a}.", field="answer_code")
    session.execute(delete(ContactProfileAnswer).where(ContactProfileAnswer.contact_no == contact.no))
    session.add_all(
        ContactProfileAnswer(contact_no=contact.no, questionnaire_code=q, answer_code=a) for q, a in sorted(pairs)
    )
    session.flush()
    return get_profile_answers(session, contact.no)
