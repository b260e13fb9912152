"""The JSON API under /api/v1 (the public contract)."""

from fastapi import APIRouter, Depends

from rapport.api import campaigns, contacts, documents, interactions, masterdata, segments, setup, system, templates
from rapport.api.deps import refuse_nul_characters

router = APIRouter(dependencies=[Depends(refuse_nul_characters)])
for module in (system, setup, masterdata, contacts, templates, interactions, segments, campaigns, documents):
    router.include_router(module.router)
