"""The server-rendered UI at / (Jinja2 + htmx): every module of this package with a `router`."""

import importlib
import pkgutil

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    if isinstance(getattr(_module, "router", None), APIRouter):
        router.include_router(_module.router)
