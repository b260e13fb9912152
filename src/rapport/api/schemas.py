"""Response pieces shared by several API areas."""

from __future__ import annotations

from pydantic import BaseModel


class Statistics(BaseModel):
    """No. of Interactions, Cost and Duration (not canceled, not postponed, in the date filter)."""

    no_of_interactions: int = 0
    cost: float = 0
    duration_min: float = 0
