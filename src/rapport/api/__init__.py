"""The JSON API under /api/v1 (the public contract)."""

from fastapi import APIRouter

from rapport.api import campaigns, contacts, documents, interactions, masterdata, segments, setup, system, templates

router = APIRouter()
for module in (system, setup, masterdata, contacts, templates, interactions, segments, campaigns, documents):
    router.include_router(module.router)
