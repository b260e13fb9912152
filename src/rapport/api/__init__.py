"""The JSON API under /api/v1 (the public contract)."""

from fastapi import APIRouter

from rapport.api import campaigns, contacts, documents, interactions, masterdata, setup, system, templates

router = APIRouter()
for module in (system, setup, masterdata, contacts, templates, interactions, campaigns, documents):
    router.include_router(module.router)
