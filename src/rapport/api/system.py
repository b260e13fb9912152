"""Health, sign-in and users."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel, ConfigDict

from rapport import __version__, accounts
from rapport.accounts import UserCreate, UserUpdate
from rapport.api.deps import Admin, ListParamsDep, ReleasingRoute, SessionDep, commit, keyset_page, sign_in
from rapport.core.enums import Role, captions
from rapport.filters import field_specs

router = APIRouter(route_class=ReleasingRoute)
USER_FIELDS = field_specs(accounts.User, enums={"role": captions(Role)})


class Health(BaseModel):
    status: str
    database: Literal["sqlite", "postgresql"]
    version: str


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    role: str
    active: bool


@router.get("/health", response_model=Health, tags=["system"])
def health(request: Request, session: SessionDep) -> Health:
    """Liveness and the database in use."""
    from sqlalchemy import text

    session.execute(text("SELECT 1"))
    return Health(status="ok", database=session.get_bind().dialect.name, version=__version__)


@router.get("/health/live", tags=["system"])
def live() -> dict[str, str]:
    """Liveness: the process answers (no database access)."""
    return {"status": "ok"}


@router.get("/health/ready", response_model=Health, tags=["system"])
def ready(request: Request, session: SessionDep) -> Health:
    """Readiness: the database answers (503 when it does not)."""
    return health(request, session)


@router.post("/auth/token", response_model=Token, tags=["system"])
def token(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Token:
    """Exchange a username and password for a bearer token."""
    user = sign_in(request, session, username, password)
    return Token(access_token=request.app.state.tokens.issue(user))


class UserPage(BaseModel):
    items: list[UserRead]
    next_cursor: str | None


@router.get("/users", response_model=UserPage, tags=["users"])
def list_users(session: SessionDep, params: ListParamsDep, _: Admin) -> dict[str, object]:
    """The users by name (admin)."""
    rows, cursor = keyset_page(session, accounts.users_statement(), [accounts.User.username], params, USER_FIELDS)
    return {"items": rows, "next_cursor": cursor}


@router.post("/users", response_model=UserRead, status_code=201, tags=["users"])
def create_user(data: UserCreate, session: SessionDep, _: Admin) -> UserRead:
    user = accounts.create_user(session, data)
    commit(session)
    return UserRead.model_validate(user)


@router.get("/users/{username}", response_model=UserRead, tags=["users"])
def get_user(username: str, session: SessionDep, _: Admin) -> UserRead:
    return UserRead.model_validate(accounts.get_user(session, username))


@router.patch("/users/{username}", response_model=UserRead, tags=["users"])
def update_user(username: str, data: UserUpdate, session: SessionDep, _: Admin) -> UserRead:
    user = accounts.update_user(session, username, data)
    commit(session)
    return UserRead.model_validate(user)


@router.delete("/users/{username}", status_code=204, tags=["users"])
def delete_user(username: str, session: SessionDep, _: Admin) -> Response:
    accounts.delete_user(session, username)
    commit(session)
    return Response(status_code=204)
