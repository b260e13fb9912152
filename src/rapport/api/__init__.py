"""The JSON API under /api/v1 (the public contract)."""

from fastapi import APIRouter

from rapport.api import contacts, masterdata, setup, system

router = APIRouter()
for module in (system, setup, masterdata, contacts):
    router.include_router(module.router)
