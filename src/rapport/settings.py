"""One Settings object for the whole service, read from RAPPORT_* environment variables."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev"}


class Settings(BaseSettings):
    """Configuration of one Rapport process."""

    model_config = SettingsConfigDict(env_prefix="RAPPORT_", extra="ignore")

    data_dir: Path = Path("./rapport-data")
    database_url: str = ""
    secret_key: str = ""
    environment: str = "local"
    demo: bool = False
    max_upload_mb: int = 25
    token_ttl_hours: int = 24 * 7
    login_max_failures: int = 10
    login_window_seconds: int = 300
    login_lockout_seconds: int = 300

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "rapport@localhost"
    # The delivery worker: how often it looks for mail, how long a claim lasts before another
    # worker may take the message over (a worker that died), and how often a failure is retried.
    worker_poll_seconds: float = Field(default=2.0, gt=0)
    delivery_lease_seconds: int = Field(default=300, ge=1)
    delivery_max_attempts: int = Field(default=8, ge=1)
    delivery_batch_size: int = Field(default=50, ge=1)

    # "text" or "json" (one object per line, for log collectors); empty leaves logging as it is.
    log_format: str = Field(default="", pattern="^(|text|json)$")
    log_level: str = "INFO"

    default_page_size: int = Field(default=50, ge=1)
    max_page_size: int = Field(default=1000, ge=1)

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'rapport.db').resolve()}"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def resolved_secret_key(self) -> str:
        """The signing key: configured, or generated once and kept in the data directory."""
        if self.secret_key:
            if self.environment == "production" and self.secret_key in PLACEHOLDER_SECRETS:
                raise RuntimeError("RAPPORT_SECRET_KEY is a placeholder; set a real secret.")
            return self.secret_key
        if self.environment == "production":
            raise RuntimeError("RAPPORT_SECRET_KEY must be set in production.")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        self.secret_key = path.read_text().strip()
        return self.secret_key


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
