"""Users, roles, password hashing, bearer tokens and the login throttle."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import Field
from sqlalchemy import Boolean, Connection, DateTime, Integer, Select, String, bindparam, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from rapport.core.base import StrictModel
from rapport.core.enums import Role
from rapport.db import Base
from rapport.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized

_hasher = PasswordHasher()

# What each role may do: read everything, or write in an area.
PERMISSIONS: dict[str, set[Role]] = {
    "read": {Role.ADMIN, Role.MARKETING, Role.SALES, Role.VIEWER},
    "contacts.write": {Role.ADMIN, Role.MARKETING, Role.SALES},
    "contacts.delete": {Role.ADMIN, Role.MARKETING},
    "interactions.write": {Role.ADMIN, Role.MARKETING, Role.SALES},
    "marketing.write": {Role.ADMIN, Role.MARKETING},
    "users": {Role.ADMIN},
}


class User(Base):
    """A person who signs in to Rapport."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    token_key: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """One failed sign-in, kept for the throttle window."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(50), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserCreate(StrictModel):
    username: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Role
    password: str = Field(min_length=8, max_length=200)
    active: bool = True


class UserUpdate(StrictModel):
    role: Role | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)
    active: bool | None = None


def now_utc() -> datetime:
    return datetime.now(UTC)


def hash_password(password: str) -> str:
    """An argon2 hash of the password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password a person can type."""
    return secrets.token_urlsafe(12)


def get_user(session: Session, username: str) -> User:
    """The user with that name, or NotFound."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"User {username} does not exist.")
    return user


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.scalars(select(User).order_by(User.username)))


def users_statement() -> Select[tuple[User]]:
    """The users, for a paged list."""
    return select(User)


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def create_user(session: Session, data: UserCreate) -> User:
    """Add a user; a name that is taken is a conflict."""
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(f"User {data.username} already exists.", field="username")
    user = User(
        username=data.username,
        role=data.role,
        active=data.active,
        password_hash=hash_password(data.password),
        token_key=secrets.token_hex(16),
        created_at=now_utc(),
    )
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, username: str, data: UserUpdate) -> User:
    """Change a user's role, password or active flag; a new password or a deactivation ends the
    tokens and sessions issued before (reactivating the user does not bring them back)."""
    user = get_user(session, username)
    if data.role is not None:
        user.role = data.role
    if data.active is not None:
        if user.active and not data.active:
            user.token_key = secrets.token_hex(16)
        user.active = data.active
    if data.password is not None:
        user.password_hash = hash_password(data.password)
        user.token_key = secrets.token_hex(16)
    session.flush()
    return user


def delete_user(session: Session, username: str) -> None:
    """Remove a user; their tokens stop working at once."""
    session.delete(get_user(session, username))
    session.flush()


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    max_failures: int = 10,
    window_seconds: int = 300,
    lockout_seconds: int = 300,
) -> User:
    """The active user with these credentials; failures are counted per username."""
    now = now_utc()
    since = now - timedelta(seconds=max(window_seconds, lockout_seconds))
    session.execute(delete(LoginFailure).where(LoginFailure.at < since))
    recent = list(
        session.scalars(
            select(LoginFailure.at)
            .where(LoginFailure.username == username, LoginFailure.at >= now - timedelta(seconds=window_seconds))
            .order_by(LoginFailure.at.desc())
        )
    )
    if len(recent) >= max_failures:
        last = recent[0] if recent[0].tzinfo else recent[0].replace(tzinfo=UTC)
        if now - last < timedelta(seconds=lockout_seconds):
            raise TooManyRequests("Too many failed sign-ins for this user; wait a few minutes and try again.")
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not verify_password(user.password_hash, password):
        session.add(LoginFailure(username=username, at=now))
        session.flush()
        raise Unauthorized("Wrong username or password.")
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return user


class TokenSigner:
    """Signs and reads bearer tokens naming a user and their current token key.

    The key is random per user and changes with the password, so a token of a deleted user never
    works for a later user of the same name."""

    def __init__(self, secret_key: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="rapport-api-token")
        self._max_age = max_age_seconds

    def issue(self, user: User) -> str:
        return self._serializer.dumps({"u": user.username, "k": user.token_key})

    def user_for(self, connection: Connection, token: str) -> User:
        """The active user the token names, or Unauthorized (one indexed Core query: every API
        request asks this, so it costs no ORM session)."""
        try:
            data = self._serializer.loads(token, max_age=self._max_age)
        except BadSignature as exc:
            raise Unauthorized("The access token is invalid or has expired; sign in again.") from exc
        if not isinstance(data, dict):
            raise Unauthorized("The access token is invalid; sign in again.")
        row = connection.execute(_USER_BY_NAME, {"username": str(data.get("u", ""))}).first()
        if row is None or not row.active or not secrets.compare_digest(row.token_key, str(data.get("k", ""))):
            raise Unauthorized("The access token is no longer valid; sign in again.")
        return User(**row._mapping)


_USERS = User.__table__
_USER_BY_NAME = select(_USERS).where(_USERS.c.username == bindparam("username"))


def check_permission(user: User, permission: str) -> None:
    """Forbidden unless the user's role grants the permission."""
    allowed = PERMISSIONS[permission]
    if Role(user.role) not in allowed:
        raise Forbidden(f"Your role ({user.role}) does not allow this.")


def validate_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        roles = ", ".join(r.value for r in Role)
        raise Invalid(f"Unknown role '{value}'; use one of {roles}.", field="role") from exc
