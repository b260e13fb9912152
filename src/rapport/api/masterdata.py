"""Salespeople, the contact dimensions and profile questionnaires."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from rapport.api.deps import (
    ListParamsDep,
    MarketingWriter,
    Reader,
    ReleasingRoute,
    SessionDep,
    commit,
    keyset_page,
    parse_date_param,
)
from rapport.api.schemas import Statistics
from rapport.core import contacts, masterdata, statistics
from rapport.core.interactions import InteractionLogEntry
from rapport.core.masterdata import (
    CodeDescriptionCreate,
    CodeDescriptionUpdate,
    ProfileQuestionnaire,
    QuestionnaireCreate,
    QuestionnaireUpdate,
    Salesperson,
    SalespersonCreate,
    SalespersonUpdate,
)
from rapport.filters import field_specs

router = APIRouter(route_class=ReleasingRoute)



class SalespersonRead(Statistics):
    code: str
    name: str
    email: str
    phone_no: str
    blocked: bool


class SalespersonPage(BaseModel):
    items: list[SalespersonRead]
    next_cursor: str | None


class CodeDescriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    description: str


class CodeDescriptionPage(BaseModel):
    items: list[CodeDescriptionRead]
    next_cursor: str | None


class AnswerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    answer_code: str
    description: str


class QuestionnaireRead(BaseModel):
    code: str
    description: str
    answers: list[AnswerRead]


class QuestionnairePage(BaseModel):
    items: list[QuestionnaireRead]
    next_cursor: str | None


def salespeople_read(session: Any, people: list[Salesperson], query: dict[str, str]) -> list[SalespersonRead]:
    """Salespeople with their interaction statistics for the requested period."""
    totals = statistics.totals_by(
        session,
        InteractionLogEntry.salesperson_code,
        [p.code for p in people],
        parse_date_param(query, "date_from"),
        parse_date_param(query, "date_to"),
    )
    return [
        SalespersonRead(
            code=p.code,
            name=p.name,
            email=p.email,
            phone_no=p.phone_no,
            blocked=p.blocked,
            **vars(totals[p.code]),
        )
        for p in people
    ]


@router.get("/salespeople", response_model=SalespersonPage, tags=["salespeople"])
def list_salespeople(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    rows, cursor = keyset_page(session, select(Salesperson), [Salesperson.code], params, field_specs(Salesperson))
    return {"items": salespeople_read(session, rows, params.query), "next_cursor": cursor}


@router.post("/salespeople", response_model=SalespersonRead, status_code=201, tags=["salespeople"])
def create_salesperson(data: SalespersonCreate, session: SessionDep, _: MarketingWriter) -> SalespersonRead:
    person = masterdata.create_record(session, Salesperson, "Salesperson", data.model_dump())
    commit(session)
    return salespeople_read(session, [person], {})[0]


@router.get("/salespeople/{code}", response_model=SalespersonRead, tags=["salespeople"])
def get_salesperson(code: str, session: SessionDep, params: ListParamsDep, _: Reader) -> SalespersonRead:
    person = masterdata.get_record(session, Salesperson, code, "Salesperson")
    return salespeople_read(session, [person], params.query)[0]


@router.patch("/salespeople/{code}", response_model=SalespersonRead, tags=["salespeople"])
def update_salesperson(code: str, data: SalespersonUpdate, session: SessionDep, _: MarketingWriter) -> SalespersonRead:
    person = masterdata.update_record(session, Salesperson, "Salesperson", code, data.model_dump(exclude_unset=True))
    commit(session)
    return salespeople_read(session, [person], {})[0]


@router.delete("/salespeople/{code}", status_code=204, tags=["salespeople"])
def delete_salesperson(code: str, session: SessionDep, _: MarketingWriter) -> Response:
    masterdata.delete_salesperson(session, code)
    commit(session)
    return Response(status_code=204)


def _dimension_routes(path: str, model: type[Any], what: str) -> None:
    """GET/POST /{path} and GET/PATCH/DELETE /{path}/{code} for one code/description table."""
    tag = path.replace("-", " ")

    @router.get(f"/{path}", response_model=CodeDescriptionPage, tags=[tag], name=f"list_{path}")
    def list_records(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
        rows, cursor = keyset_page(session, select(model), [model.code], params, field_specs(model))
        return {"items": rows, "next_cursor": cursor}

    @router.post(f"/{path}", response_model=CodeDescriptionRead, status_code=201, tags=[tag], name=f"create_{path}")
    def create_record(data: CodeDescriptionCreate, session: SessionDep, _: MarketingWriter) -> Any:
        record = masterdata.create_record(session, model, what, data.model_dump())
        commit(session)
        return record

    @router.get(f"/{path}/{{code}}", response_model=CodeDescriptionRead, tags=[tag], name=f"get_{path}")
    def get_record(code: str, session: SessionDep, _: Reader) -> Any:
        return masterdata.get_record(session, model, code, what)

    @router.patch(f"/{path}/{{code}}", response_model=CodeDescriptionRead, tags=[tag], name=f"update_{path}")
    def update_record(code: str, data: CodeDescriptionUpdate, session: SessionDep, _: MarketingWriter) -> Any:
        record = masterdata.update_record(session, model, what, code, data.model_dump(exclude_unset=True))
        commit(session)
        return record

    @router.delete(f"/{path}/{{code}}", status_code=204, tags=[tag], name=f"delete_{path}")
    def delete_record(code: str, session: SessionDep, _: MarketingWriter) -> Response:
        masterdata.delete_dimension(session, path, code)
        commit(session)
        return Response(status_code=204)


for _path, (_model, _what) in masterdata.DIMENSIONS.items():
    _dimension_routes(_path, _model, _what)


def questionnaire_read(session: Any, q: ProfileQuestionnaire) -> QuestionnaireRead:
    answers = [AnswerRead.model_validate(a) for a in masterdata.questionnaire_answers(session, q.code)]
    return QuestionnaireRead(code=q.code, description=q.description, answers=answers)


@router.get("/profile-questionnaires", response_model=QuestionnairePage, tags=["profiles"])
def list_questionnaires(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    rows, cursor = keyset_page(
        session, select(ProfileQuestionnaire), [ProfileQuestionnaire.code], params, field_specs(ProfileQuestionnaire)
    )
    return {"items": [questionnaire_read(session, q) for q in rows], "next_cursor": cursor}


@router.post("/profile-questionnaires", response_model=QuestionnaireRead, status_code=201, tags=["profiles"])
def create_questionnaire(data: QuestionnaireCreate, session: SessionDep, _: MarketingWriter) -> QuestionnaireRead:
    q = masterdata.create_questionnaire(session, data)
    commit(session)
    return questionnaire_read(session, q)


@router.get("/profile-questionnaires/{code}", response_model=QuestionnaireRead, tags=["profiles"])
def get_questionnaire(code: str, session: SessionDep, _: Reader) -> QuestionnaireRead:
    return questionnaire_read(
        session, masterdata.get_record(session, ProfileQuestionnaire, code, "Profile questionnaire")
    )


@router.patch("/profile-questionnaires/{code}", response_model=QuestionnaireRead, tags=["profiles"])
def update_questionnaire(
    code: str, data: QuestionnaireUpdate, session: SessionDep, _: MarketingWriter
) -> QuestionnaireRead:
    q = masterdata.update_questionnaire(session, code, data)
    commit(session)
    return questionnaire_read(session, q)


@router.delete("/profile-questionnaires/{code}", status_code=204, tags=["profiles"])
def delete_questionnaire(code: str, session: SessionDep, _: MarketingWriter) -> Response:
    masterdata.delete_record(
        session,
        ProfileQuestionnaire,
        "Profile questionnaire",
        code,
        [contacts.ContactProfileAnswer.questionnaire_code],
    )
    commit(session)
    return Response(status_code=204)
