"""Languages, salespeople and the dimensions used to pick contacts: mailing groups, industry
groups, job responsibilities, business relations and profile questionnaires."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import Boolean, ForeignKey, String, delete, exists, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from rapport.core.base import Key10, Key20, StrictModel, Text50, Text100, get_or_404
from rapport.db import Base
from rapport.errors import Conflict, Invalid

EMAIL_PATTERN = (
    r"^$|^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$"
)


class Language(Base):
    __tablename__ = "language"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), default="")


class Salesperson(Base):
    __tablename__ = "salesperson"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), default="", index=True)
    email: Mapped[str] = mapped_column(String(80), default="")
    phone_no: Mapped[str] = mapped_column(String(30), default="")
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)


class MailingGroup(Base):
    __tablename__ = "mailing_group"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")


class IndustryGroup(Base):
    __tablename__ = "industry_group"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")


class JobResponsibility(Base):
    __tablename__ = "job_responsibility"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")


class BusinessRelation(Base):
    __tablename__ = "business_relation"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")


class ProfileQuestionnaire(Base):
    __tablename__ = "profile_questionnaire"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")


class ProfileAnswer(Base):
    """One possible answer of a profile questionnaire."""

    __tablename__ = "profile_answer"

    questionnaire_code: Mapped[str] = mapped_column(
        ForeignKey("profile_questionnaire.code", ondelete="CASCADE"), primary_key=True
    )
    answer_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(100), default="")


# --- input schemas -------------------------------------------------------------------------


class LanguageCreate(StrictModel):
    code: Key10
    name: Text50 = ""


class LanguageUpdate(StrictModel):
    name: Text50 | None = None


class CodeDescriptionCreate(StrictModel):
    code: Key10
    description: Text100 = ""


class CodeDescriptionUpdate(StrictModel):
    description: Text100 | None = None


class SalespersonCreate(StrictModel):
    code: Key20
    name: Text50 = ""
    email: str = Field(default="", max_length=80, pattern=EMAIL_PATTERN)
    phone_no: str = Field(default="", max_length=30)
    blocked: bool = False


class SalespersonUpdate(StrictModel):
    name: Text50 | None = None
    email: str | None = Field(default=None, max_length=80, pattern=EMAIL_PATTERN)
    phone_no: str | None = Field(default=None, max_length=30)
    blocked: bool | None = None


class AnswerIn(StrictModel):
    answer_code: Key10
    description: Text100 = ""


class QuestionnaireCreate(StrictModel):
    code: Key10
    description: Text100 = ""
    answers: list[AnswerIn] = []

    @field_validator("answers")
    @classmethod
    def _unique_answers(cls, answers: list[AnswerIn]) -> list[AnswerIn]:
        codes = [a.answer_code for a in answers]
        if len(codes) != len(set(codes)):
            raise ValueError("answer codes must be unique")
        return answers


class QuestionnaireUpdate(StrictModel):
    description: Text100 | None = None
    answers: list[AnswerIn] | None = None


# The simple code/description tables, by the name their routes use.
DIMENSIONS: dict[str, tuple[type[Any], str]] = {
    "mailing-groups": (MailingGroup, "Mailing group"),
    "industry-groups": (IndustryGroup, "Industry group"),
    "job-responsibilities": (JobResponsibility, "Job responsibility"),
    "business-relations": (BusinessRelation, "Business relation"),
}


# --- generic code tables -------------------------------------------------------------------


def get_record(session: Session, model: type[Any], code: str, what: str) -> Any:
    return get_or_404(session, model, code.strip().upper(), what)


def create_record(session: Session, model: type[Any], what: str, values: dict[str, Any]) -> Any:
    """Insert a code record; a code that exists is a conflict."""
    if session.get(model, values["code"]) is not None:
        raise Conflict(f"{what} {values['code']} already exists.", field="code")
    record = model(**values)
    session.add(record)
    session.flush()
    return record


def update_record(session: Session, model: type[Any], what: str, code: str, values: dict[str, Any]) -> Any:
    """Change the given fields of a code record."""
    record = get_record(session, model, code, what)
    for name, value in values.items():
        if value is None:
            raise Invalid(f"{name} cannot be null.", field=name)
        setattr(record, name, value)
    session.flush()
    return record


def delete_record(session: Session, model: type[Any], what: str, code: str, used_by: list[Any]) -> None:
    """Delete a code record that no row of `used_by` (columns) refers to."""
    record = get_record(session, model, code, what)
    for column in used_by:
        if session.scalar(select(exists().where(column == record.code))):
            raise Conflict(f"{what} {record.code} is still used ({column.table.name}); remove those uses first.")
    session.delete(record)
    session.flush()


def delete_salesperson(session: Session, code: str) -> None:
    """Delete a salesperson no contact, campaign or interaction refers to."""
    from rapport.core.campaigns import Campaign
    from rapport.core.contacts import Contact
    from rapport.core.interactions.models import InteractionLogEntry

    used_by = [Contact.salesperson_code, Campaign.salesperson_code, InteractionLogEntry.salesperson_code]
    delete_record(session, Salesperson, "Salesperson", code, used_by)


def delete_language(session: Session, code: str) -> None:
    """Delete a language no contact, template language or Marketing Setup refers to."""
    from rapport.core.contacts import Contact
    from rapport.core.setup import MarketingSetup
    from rapport.core.templates import InteractionTemplateLanguage

    used_by = [Contact.language_code, InteractionTemplateLanguage.language_code, MarketingSetup.default_language_code]
    delete_record(session, Language, "Language", code, used_by)


def delete_dimension(session: Session, path: str, code: str) -> None:
    """Delete a record of one of the DIMENSIONS that no contact (or business relation) is assigned to."""
    from rapport.core.contacts import ASSIGNMENTS, ContactBusinessRelation

    model, what = DIMENSIONS[path]
    link = ASSIGNMENTS.get(path)
    used_by = [getattr(link[0], link[1])] if link else [ContactBusinessRelation.business_relation_code]
    delete_record(session, model, what, code, used_by)


def check_language(session: Session, code: str, field: str) -> None:
    """Invalid unless the language exists (blank is fine)."""
    if code and session.get(Language, code) is None:
        raise Invalid(f"Language {code} does not exist.", field=field)


def check_salesperson(session: Session, code: str, field: str, *, allow_blocked: bool = True) -> None:
    """Invalid unless the salesperson exists (blank is fine); optionally not blocked."""
    if not code:
        return
    person = session.get(Salesperson, code)
    if person is None:
        raise Invalid(f"Salesperson {code} does not exist.", field=field)
    if person.blocked and not allow_blocked:
        raise Invalid(f"Salesperson {code} is blocked.", field=field)


# --- profile questionnaires ----------------------------------------------------------------


def create_questionnaire(session: Session, data: QuestionnaireCreate) -> ProfileQuestionnaire:
    q = create_record(
        session,
        ProfileQuestionnaire,
        "Profile questionnaire",
        {"code": data.code, "description": data.description},
    )
    _replace_answers(session, q.code, data.answers)
    return q


def update_questionnaire(session: Session, code: str, data: QuestionnaireUpdate) -> ProfileQuestionnaire:
    q = get_record(session, ProfileQuestionnaire, code, "Profile questionnaire")
    if data.description is not None:
        q.description = data.description
    if data.answers is not None:
        _replace_answers(session, q.code, data.answers)
    session.flush()
    return q


def _replace_answers(session: Session, code: str, answers: list[AnswerIn]) -> None:
    from rapport.core.contacts import ContactProfileAnswer

    keep = {a.answer_code for a in answers}
    used = session.scalars(
        select(ContactProfileAnswer.answer_code).where(ContactProfileAnswer.questionnaire_code == code).distinct()
    ).all()
    dropped = sorted(set(used) - keep)
    if dropped:
        raise Conflict(
            f"Answers {', '.join(dropped)} are given by contacts; they cannot be removed.",
            field="answers",
        )
    session.execute(delete(ProfileAnswer).where(ProfileAnswer.questionnaire_code == code))
    session.add_all(
        ProfileAnswer(questionnaire_code=code, answer_code=a.answer_code, description=a.description) for a in answers
    )
    session.flush()


def questionnaire_answers(session: Session, code: str) -> list[ProfileAnswer]:
    return list(
        session.scalars(
            select(ProfileAnswer).where(ProfileAnswer.questionnaire_code == code).order_by(ProfileAnswer.answer_code)
        )
    )

