"""Fixtures shared by the API tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rapport.app import create_app
from rapport.settings import Settings


@pytest.fixture
def small_client(settings: Settings) -> Iterator[TestClient]:
    """The app with a 1 MB limit on bodies and uploads."""
    app = create_app(settings.model_copy(update={"max_upload_mb": 1}))
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()
