"""Segments: lists of contacts built by criteria, personalised per line, logged as interactions."""

from rapport.core.segments.models import (
    IdempotencyRecord,
    LoggedSegment,
    SavedSegmentCriteria,
    SavedSegmentCriteriaAction,
    SegmentCriteriaAction,
    SegmentHeader,
    SegmentHistory,
    SegmentInteractionLanguage,
    SegmentLine,
)

__all__ = [
    "IdempotencyRecord",
    "LoggedSegment",
    "SavedSegmentCriteria",
    "SavedSegmentCriteriaAction",
    "SegmentCriteriaAction",
    "SegmentHeader",
    "SegmentHistory",
    "SegmentInteractionLanguage",
    "SegmentLine",
]
