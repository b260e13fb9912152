"""The server-rendered UI at / (Jinja2 + htmx)."""

from fastapi import APIRouter

from rapport.web import auth, home

router = APIRouter(include_in_schema=False)
for module in (auth, home):
    router.include_router(module.router)
