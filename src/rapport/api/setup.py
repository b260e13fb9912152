"""Number series, Marketing Setup, Interaction Template Setup and languages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, create_model

from rapport.api.deps import ListParamsDep, MarketingWriter, Reader, ReleasingRoute, SessionDep, commit, keyset_page
from rapport.core import masterdata, setup
from rapport.core.masterdata import Language, LanguageCreate, LanguageUpdate
from rapport.core.setup import (
    MarketingSetupUpdate,
    NumberSeries,
    NumberSeriesCreate,
    NumberSeriesUpdate,
)
from rapport.filters import field_specs

router = APIRouter(route_class=ReleasingRoute)


class NumberSeriesRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    description: str
    starting_no: str
    ending_no: str
    increment_by: int
    last_no_used: str
    manual_nos: bool


class NumberSeriesPage(BaseModel):
    items: list[NumberSeriesRead]
    next_cursor: str | None


class MarketingSetupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    contact_nos: str
    segment_nos: str
    campaign_nos: str
    default_correspondence_type: str
    default_language_code: str
    default_salesperson_code: str
    default_country_code: str
    inherit_salesperson_code: bool
    inherit_language_code: bool
    inherit_address_details: bool
    inherit_communication_details: bool
    attachment_storage_type: str
    attachment_storage_location: str


class LanguageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str


class LanguagePage(BaseModel):
    items: list[LanguageRead]
    next_cursor: str | None


TemplateSetupRead: type[BaseModel] = create_model(
    "InteractionTemplateSetupRead",
    **{f: (str, "") for f in setup.TEMPLATE_SETUP_FIELDS},  # type: ignore[call-overload]
)
TemplateSetupUpdate: type[BaseModel] = create_model(
    "InteractionTemplateSetupUpdate",
    __config__=ConfigDict(extra="forbid"),
    **{f: (str | None, None) for f in setup.TEMPLATE_SETUP_FIELDS},  # type: ignore[call-overload]
)


@router.get("/number-series", response_model=NumberSeriesPage, tags=["setup"])
def list_number_series(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    from sqlalchemy import select

    rows, cursor = keyset_page(session, select(NumberSeries), [NumberSeries.code], params, field_specs(NumberSeries))
    return {"items": rows, "next_cursor": cursor}


@router.post("/number-series", response_model=NumberSeriesRead, status_code=201, tags=["setup"])
def create_number_series(data: NumberSeriesCreate, session: SessionDep, _: MarketingWriter) -> NumberSeries:
    series = setup.create_number_series(session, data)
    commit(session)
    return series


@router.get("/number-series/{code}", response_model=NumberSeriesRead, tags=["setup"])
def get_number_series(code: str, session: SessionDep, _: Reader) -> NumberSeries:
    return setup.get_number_series(session, code)


@router.patch("/number-series/{code}", response_model=NumberSeriesRead, tags=["setup"])
def update_number_series(code: str, data: NumberSeriesUpdate, session: SessionDep, _: MarketingWriter) -> NumberSeries:
    series = setup.update_number_series(session, code, data)
    commit(session)
    return series


@router.delete("/number-series/{code}", status_code=204, tags=["setup"])
def delete_number_series(code: str, session: SessionDep, _: MarketingWriter) -> Response:
    setup.delete_number_series(session, code)
    commit(session)
    return Response(status_code=204)


@router.get("/setup/marketing", response_model=MarketingSetupRead, tags=["setup"])
def get_marketing_setup(session: SessionDep, _: Reader) -> Any:
    ms = setup.get_marketing_setup(session)
    commit(session)
    return ms


@router.put("/setup/marketing", response_model=MarketingSetupRead, tags=["setup"])
def put_marketing_setup(data: MarketingSetupUpdate, session: SessionDep, _: MarketingWriter) -> Any:
    ms = setup.update_marketing_setup(session, data)
    commit(session)
    return ms


@router.get("/setup/interaction-templates", response_model=TemplateSetupRead, tags=["setup"])
def get_template_setup(session: SessionDep, _: Reader) -> dict[str, str]:
    return setup.get_template_setup(session)


@router.put("/setup/interaction-templates", response_model=TemplateSetupRead, tags=["setup"])
def put_template_setup(data: TemplateSetupUpdate, session: SessionDep, _: MarketingWriter) -> dict[str, str]:
    values = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    result = setup.update_template_setup(session, values)
    commit(session)
    return result


@router.get("/languages", response_model=LanguagePage, tags=["setup"])
def list_languages(session: SessionDep, params: ListParamsDep, _: Reader) -> dict[str, Any]:
    from sqlalchemy import select

    rows, cursor = keyset_page(session, select(Language), [Language.code], params, field_specs(Language))
    return {"items": rows, "next_cursor": cursor}


@router.post("/languages", response_model=LanguageRead, status_code=201, tags=["setup"])
def create_language(data: LanguageCreate, session: SessionDep, _: MarketingWriter) -> Any:
    language = masterdata.create_record(session, Language, "Language", data.model_dump())
    commit(session)
    return language


@router.get("/languages/{code}", response_model=LanguageRead, tags=["setup"])
def get_language(code: str, session: SessionDep, _: Reader) -> Any:
    return masterdata.get_record(session, Language, code, "Language")


@router.patch("/languages/{code}", response_model=LanguageRead, tags=["setup"])
def update_language(code: str, data: LanguageUpdate, session: SessionDep, _: MarketingWriter) -> Any:
    language = masterdata.update_record(session, Language, "Language", code, data.model_dump(exclude_unset=True))
    commit(session)
    return language


@router.delete("/languages/{code}", status_code=204, tags=["setup"])
def delete_language(code: str, session: SessionDep, _: MarketingWriter) -> Response:
    masterdata.delete_language(session, code)
    commit(session)
    return Response(status_code=204)
