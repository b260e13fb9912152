"""The least a create-interaction request can cost on this machine: a bare FastAPI app whose POST runs
Rapport's one-statement Create Interaction (the same INSERT ... SELECT, same connection settings) and
commits, with no authentication, validation or response model, beside a bare hello world.

`bench/interactions.py` serves it with uvicorn like `rapport serve` (same worker count) and drives it
like Rapport, so its figures bound what any implementation of the route could reach here.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse

import rapport.models  # noqa: F401  (registers every table)
from rapport.core.interactions.recording import plain_insert
from rapport.db import make_engine


def create_app() -> FastAPI:
    engine = make_engine(os.environ["RAPPORT_DATABASE_URL"]).execution_options(rapport_write=True)
    app = FastAPI()

    @app.get("/api/v1/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/interactions")
    def create(body: dict[str, Any] = Body(...)) -> JSONResponse:  # sync, in the thread pool, as Rapport's
        statement, params = plain_insert(body, "admin")
        with engine.begin() as conn:
            row = conn.execute(statement, params).one()
        values = {k: v if isinstance(v, int | str | bool) or v is None else str(v) for k, v in row._mapping.items()}
        return JSONResponse(values, status_code=201)

    return app
