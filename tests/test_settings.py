"""Settings: local defaults just work, production refuses missing or placeholder secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from rapport.settings import Settings


def test_a_local_secret_is_generated_once_and_kept_in_the_data_directory(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).resolved_secret_key()
    assert len(first) >= 32
    assert Settings(data_dir=tmp_path).resolved_secret_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("secret", ["", "change-me", "secret"])
def test_production_refuses_a_missing_or_placeholder_secret(tmp_path: Path, secret: str) -> None:
    with pytest.raises(RuntimeError, match="RAPPORT_SECRET_KEY"):
        Settings(data_dir=tmp_path, environment="production", secret_key=secret).resolved_secret_key()
    assert not (tmp_path / "secret_key").exists()


def test_the_default_database_is_a_sqlite_file_in_the_data_directory(tmp_path: Path) -> None:
    url = Settings(data_dir=tmp_path).resolved_database_url
    assert url == f"sqlite:///{(tmp_path / 'rapport.db').resolve()}"
