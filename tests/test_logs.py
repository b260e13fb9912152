"""Structured logs: one JSON object per line with the request's facts, and the request id echoed."""

from __future__ import annotations

import json
import logging

from rapport.logs import JsonFormatter, TextFormatter, configure_logging


def test_a_json_line_carries_the_message_and_the_extra_fields():
    record = logging.makeLogRecord(
        {
            "name": "rapport.worker",
            "levelname": "WARNING",
            "msg": "not sent %s",
            "args": ("now",),
            "entry_no": 7,
            "reason": "550 refused",
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "not sent now" and line["level"] == "warning" and line["logger"] == "rapport.worker"
    assert line["entry_no"] == 7 and line["reason"] == "550 refused" and line["ts"].endswith("+00:00")
    assert "entry_no=7" in TextFormatter().format(record)


def test_every_request_leaves_an_access_line_and_gets_a_request_id(client, capsys):
    configure_logging("json", "INFO")
    try:
        response = client.get("/api/v1/health/live", headers={"X-Request-ID": "abc-123"})
        assert response.headers["x-request-id"] == "abc-123"
        assert client.get("/api/v1/health/live").headers["x-request-id"]
        lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
        access = [x for x in lines if x["logger"] == "rapport.access" and x.get("request_id") == "abc-123"]
        assert access and access[0]["status"] == 200 and access[0]["path"] == "/api/v1/health/live"
        assert access[0]["duration_ms"] >= 0
    finally:
        for name in ("rapport", "uvicorn", "uvicorn.error"):
            logging.getLogger(name).handlers[:] = []
            logging.getLogger(name).propagate = True
        logging.getLogger("uvicorn.access").disabled = False
