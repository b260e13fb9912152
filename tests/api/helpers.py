"""Assertions shared by the API tests."""

from __future__ import annotations

API = "/api/v1"


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    """The response is the error envelope of api.md with this status, code and (optionally) field."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str) and error["message"], body
    assert set(error) <= {"code", "message", "field"}, body
    if field is not None:
        assert error.get("field") == field, body
    return error


def create(client, headers, path: str, body: dict) -> dict:
    """POST a record and return it, asserting 201."""
    response = client.post(f"{API}/{path}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()
