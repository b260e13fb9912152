"""The JSON API under /api/v1 (the public contract)."""

from fastapi import APIRouter, Depends

from rapport.api import campaigns, contacts, documents, interactions, masterdata, segments, setup, system, templates
from rapport.api.deps import refuse_nul_characters

router = APIRouter(dependencies=[Depends(refuse_nul_characters)])
# Routes are matched one by one in this order (no two modules share a path prefix), so the busiest
# come first: health checks, the interaction log, contacts and segments, then set-up and master data.
for module in (system, interactions, contacts, segments, templates, campaigns, documents, masterdata, setup):
    router.include_router(module.router)
