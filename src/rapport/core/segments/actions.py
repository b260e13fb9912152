"""Criteria actions on a segment: Add Contacts, Reduce and Refine, preview, Go Back, saved criteria
and Reuse Logged Segment — each one set-based SQL statement over the contacts (domain.md 3.6-3.11)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field
from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    column,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    table,
    text,
    true,
    tuple_,
    union,
)
from sqlalchemy.orm import Session, aliased

from rapport.core.base import Int32, Key10, StrictModel, Text100
from rapport.core.contacts import Contact
from rapport.core.interactions.models import InteractionLogEntry
from rapport.core.segments import criteria as crit
from rapport.core.segments.lines import insert_lines, record_history
from rapport.core.segments.models import (
    LoggedSegment,
    SavedSegmentCriteria,
    SavedSegmentCriteriaAction,
    SegmentCriteriaAction,
    SegmentHeader,
    SegmentHistory,
    SegmentInteractionLanguage,
    SegmentLine,
)
from rapport.db import rowcount
from rapport.errors import Conflict, Invalid, NotFound

ADD, REDUCE, REFINE = "add_contacts", "reduce_contacts", "refine_contacts"
ADD_OPTIONS = ("allow_existing_contacts", "expand_companies", "allow_company_with_persons", "ignore_exclusion")

_candidates = table("seg_candidate", column("contact_no"))


class AddContacts(StrictModel):
    criteria: dict[str, dict[str, str]] = Field(default_factory=dict)
    allow_existing_contacts: bool = False
    expand_companies: bool = False
    allow_company_with_persons: bool = False
    ignore_exclusion: bool = False


class RemoveContacts(StrictModel):
    criteria: dict[str, dict[str, str]] = Field(default_factory=dict)
    entire_companies: bool = False


class SaveCriteria(StrictModel):
    code: Key10
    description: Text100 = ""


class ReuseCriteria(StrictModel):
    code: Key10


class ReuseLoggedSegment(StrictModel):
    logged_segment_entry_no: Int32


@dataclass
class Skipped:
    already_present: int = 0
    excluded: int = 0
    privacy_blocked: int = 0


@dataclass
class AddResult:
    added: int
    action_no: int
    skipped: Skipped = field(default_factory=Skipped)


def get_header(session: Session, no: str) -> SegmentHeader:
    header = session.get(SegmentHeader, no.strip().upper())
    if header is None:
        raise NotFound(f"Segment {no} does not exist.")
    return header


def no_of_actions(session: Session, segment_no: str) -> int:
    return int(
        session.scalar(
            select(func.max(SegmentCriteriaAction.action_no)).where(SegmentCriteriaAction.segment_no == segment_no)
        )
        or 0
    )


def record_action(session: Session, segment_no: str, action: str, options: dict[str, Any], criteria: Any) -> int:
    """Append a criteria action; returns its number."""
    action_no = no_of_actions(session, segment_no) + 1
    session.add(
        SegmentCriteriaAction(
            segment_no=segment_no, action_no=action_no, action=action, options=options, criteria=criteria
        )
    )
    session.flush()
    return action_no


# --- Add Contacts ------------------------------------------------------------------------------


def _qualifying(criteria: crit.CriteriaMap, data: AddContacts) -> Any:
    """The contact numbers an Add action brings in (before exclusion and duplicates)."""
    q = (
        select(Contact.no.label("no"), Contact.company_no.label("company_no"))
        .where(crit.condition(criteria))
        .subquery("q")
    )
    parts: list[Any] = []
    if data.expand_companies:
        mates = aliased(Contact)
        parts.append(select(mates.no).where(mates.company_no.in_(select(q.c.company_no).where(q.c.company_no != ""))))
        parts.append(select(q.c.no).where(q.c.company_no == ""))
    else:
        parts.append(select(q.c.no))
    if data.allow_company_with_persons:
        parts.append(select(q.c.company_no).where(q.c.company_no != ""))
    return union(*parts) if len(parts) > 1 else parts[0]


def _fill_candidates(session: Session, source: Any) -> None:
    """Materialise the contacts an action works on into a temporary table of this connection."""
    session.execute(text("CREATE TEMP TABLE IF NOT EXISTS seg_candidate (contact_no VARCHAR(20) PRIMARY KEY)"))
    postgres = session.get_bind().dialect.name == "postgresql"
    session.execute(text("TRUNCATE seg_candidate" if postgres else "DELETE FROM seg_candidate"))
    session.execute(insert(_candidates).from_select(["contact_no"], select(source.subquery().c[0]).distinct()))
    if postgres:
        session.execute(text("ANALYZE seg_candidate"))  # so the planner knows its real size


def _in_candidates(contact_no: Any) -> Any:
    return exists().where(_candidates.c.contact_no == contact_no)


def _classify(segment_no: str, data: AddContacts, has_lines: bool = True) -> tuple[Any, Any, Any]:
    """Why a qualifying contact is skipped: blocked, excluded, already present (in that order of precedence);
    a segment without lines has no contact already present."""
    c = Contact
    on_segment = exists().where(SegmentLine.segment_no == segment_no, SegmentLine.contact_no == c.no)
    blocked = c.privacy_blocked.is_(True)
    excluded = and_(not_(blocked), c.exclude_from_segment.is_(True)) if not data.ignore_exclusion else false()
    present = (
        and_(not_(blocked), not_(excluded), on_segment) if has_lines and not data.allow_existing_contacts else false()
    )
    return blocked, excluded, present


def _count_skipped(session: Session, classes: tuple[Any, Any, Any], rows: Any, *where: Any) -> tuple[int, Skipped]:
    """Of the contacts of `rows` meeting `where`: how many would be added, and why the others are skipped."""
    blocked, excluded, present = classes
    counts = session.execute(
        select(
            func.count(),
            func.count().filter(blocked),
            func.count().filter(excluded),
            func.count().filter(present),
        )
        .select_from(rows)
        .where(*where)
    ).one()
    total, n_blocked, n_excluded, n_present = (int(v or 0) for v in counts)
    return total - n_blocked - n_excluded - n_present, Skipped(n_present, n_excluded, n_blocked)


def _candidate_contacts() -> Any:
    return _candidates.join(Contact, Contact.no == _candidates.c.contact_no)


def _has_lines(session: Session, segment_no: str) -> bool:
    return session.scalar(select(SegmentLine.line_no).where(SegmentLine.segment_no == segment_no).limit(1)) is not None


def add_contacts(session: Session, segment_no: str, data: AddContacts) -> AddResult:
    """Add Contacts: one action, the qualifying contacts inserted as lines with their defaults."""
    header = get_header(session, segment_no)
    criteria = crit.normalize(data.criteria)
    crit.validate(criteria)
    options = {name: getattr(data, name) for name in ADD_OPTIONS}
    action_no = record_action(session, header.no, ADD, options, criteria)
    classes = _classify(header.no, data, has_lines=_has_lines(session, header.no))
    blocked, excluded, present = classes
    qualifies: ColumnElement[bool]
    if data.expand_companies or data.allow_company_with_persons:
        _fill_candidates(session, _qualifying(criteria, data))
        source: Any = select(_candidates.c.contact_no.label("contact_no"))
        rows, qualifies = _candidate_contacts(), true()
    else:
        # Every qualifying contact comes once by itself: no candidate table, the insert reads the contacts that
        # meet the criteria directly (like a hand-written INSERT ... SELECT).
        source, rows, qualifies = None, Contact, crit.condition(criteria)
    # only the skipped ones are counted (the few blocked or excluded, and those already on the segment)
    _, skipped = _count_skipped(session, classes, rows, or_(blocked, excluded, present), qualifies)
    keep = and_(not_(blocked), not_(excluded), not_(present), qualifies)
    added = insert_lines(session, header, source, action_no, where=keep)
    return AddResult(added=added, action_no=action_no, skipped=skipped)


# --- Reduce / Refine ---------------------------------------------------------------------------


def _matching(segment_no: str, criteria: crit.CriteriaMap, entire_companies: bool) -> Any:
    """M: the contacts that match, among the segment's contacts (or all contacts of its companies)."""
    lines = select(SegmentLine.contact_no).where(SegmentLine.segment_no == segment_no)
    if not entire_companies:
        return select(Contact.no).where(Contact.no.in_(lines), crit.condition(criteria))
    companies = select(SegmentLine.contact_company_no).where(
        SegmentLine.segment_no == segment_no, SegmentLine.contact_company_no != ""
    )
    evaluated = or_(Contact.company_no.in_(companies), and_(Contact.company_no == "", Contact.no.in_(lines)))
    m0 = (
        select(Contact.no.label("no"), Contact.company_no.label("company_no"))
        .where(evaluated, crit.condition(criteria))
        .subquery("m0")
    )
    mates = aliased(Contact)
    return union(
        select(mates.no).where(mates.company_no.in_(select(m0.c.company_no).where(m0.c.company_no != ""))),
        select(m0.c.no).where(m0.c.company_no == ""),
    )


def delete_lines(session: Session, segment_no: str, line_filter: Any, action_no: int | None) -> int:
    """Delete the segment's lines matching the filter (history Deletion rows, unique languages)."""
    mine = and_(SegmentLine.segment_no == segment_no, line_filter)
    has_line_languages = session.scalar(
        select(SegmentInteractionLanguage.segment_line_no)
        .where(SegmentInteractionLanguage.segment_no == segment_no, SegmentInteractionLanguage.segment_line_no != 0)
        .limit(1)
    )
    if has_line_languages is not None:
        session.execute(
            delete(SegmentInteractionLanguage)
            .where(
                SegmentInteractionLanguage.segment_no == segment_no,
                SegmentInteractionLanguage.segment_line_no.in_(select(SegmentLine.line_no).where(mine)),
            )
            .execution_options(synchronize_session=False)
        )
    if action_no is not None and session.get_bind().dialect.name == "postgresql":
        # One statement: the DELETE hands its rows to the history INSERT (the filter runs once).
        deleted = (
            delete(SegmentLine)
            .where(mine)
            .returning(SegmentLine.segment_no, SegmentLine.line_no, SegmentLine.contact_no)
            .cte("deleted")
        )
        history = select(
            deleted.c.segment_no,
            literal(action_no, Integer),
            deleted.c.line_no,
            deleted.c.contact_no,
            literal("deletion", String),
        )
        result = session.execute(
            insert(SegmentHistory)
            .from_select(["segment_no", "action_no", "line_no", "contact_no", "action_taken"], history)
            .execution_options(preserve_rowcount=True)
        )
        return rowcount(result)
    if action_no is not None:
        record_history(session, segment_no, action_no, "deletion", line_filter)
    result = session.execute(delete(SegmentLine).where(mine).execution_options(synchronize_session=False))
    return rowcount(result)


def remove_contacts(session: Session, segment_no: str, action: str, data: RemoveContacts) -> tuple[int, int]:
    """Reduce (remove the matching lines) or Refine (keep only them); returns (removed, action_no)."""
    header = get_header(session, segment_no)
    criteria = crit.normalize(data.criteria)
    crit.validate(criteria)
    action_no = record_action(session, header.no, action, {"entire_companies": data.entire_companies}, criteria)
    if data.entire_companies:
        _fill_candidates(session, _matching(header.no, criteria, data.entire_companies))
        in_m = _in_candidates(SegmentLine.contact_no)
    else:  # the line's own contact decides: one correlated EXISTS, no candidate table
        # (or, when the criteria only look at rows linked by the contact's No., those rows straight from the line)
        in_m = crit.condition_on_no(criteria, SegmentLine.contact_no)
        if in_m is None:
            in_m = exists().where(Contact.no == SegmentLine.contact_no, crit.condition(criteria))
    removed = delete_lines(session, header.no, in_m if action == REDUCE else not_(in_m), action_no)
    return removed, action_no


# --- preview -----------------------------------------------------------------------------------


def preview(session: Session, segment_no: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    """How many lines an action would add or remove, and a sample of the contacts; changes nothing."""
    header = get_header(session, segment_no)
    nested = session.begin_nested()
    try:
        if action == ADD:
            data = AddContacts.model_validate(body)
            criteria = crit.normalize(data.criteria)
            crit.validate(criteria)
            _fill_candidates(session, _qualifying(criteria, data))
            classes = _classify(header.no, data)
            count, skipped = _count_skipped(session, classes, _candidate_contacts())
            blocked, excluded, present = classes
            sample_where: Any = and_(not_(blocked), not_(excluded), not_(present))
            skipped_out = vars(skipped)
        elif action in (REDUCE, REFINE):
            data_r = RemoveContacts.model_validate(body)
            criteria = crit.normalize(data_r.criteria)
            crit.validate(criteria)
            _fill_candidates(session, _matching(header.no, criteria, data_r.entire_companies))
            in_m = _in_candidates(SegmentLine.contact_no)
            doomed = select(SegmentLine.contact_no).where(
                SegmentLine.segment_no == header.no, in_m if action == REDUCE else not_(in_m)
            )
            count = int(session.scalar(select(func.count()).select_from(doomed.subquery())) or 0)
            sample_where = Contact.no.in_(doomed)
            skipped_out = {}
        else:
            raise Invalid(f"Unknown action '{action}'; use {ADD}, {REDUCE} or {REFINE}.", field="action")
        source = (
            select(Contact).select_from(_candidate_contacts())
            if action == ADD
            else select(Contact)
        )
        sample = list(session.scalars(source.where(sample_where).order_by(Contact.no).limit(20)))
        return {"action": action, "count": count, "skipped": skipped_out, "sample": sample}
    finally:
        nested.rollback()


# --- Go Back -----------------------------------------------------------------------------------


def go_back(session: Session, segment_no: str) -> dict[str, int]:
    """Undo the last criteria action (domain.md 3.9): remove the lines it inserted; for each line it deleted,
    append a new line with fresh defaults, taking the history from the highest line no. downwards (the deleted
    line with the highest number comes back first, as the segment's highest line no. + 10000)."""
    header = get_header(session, segment_no)
    action_no = no_of_actions(session, header.no)
    if not action_no:
        raise Conflict(f"Segment {header.no} has no criteria action to undo.")
    h = SegmentHistory
    mine = and_(h.segment_no == header.no, h.action_no == action_no)
    removed = _remove_inserted(session, header.no, mine)
    deleted = select(h.contact_no.label("contact_no"), (-h.line_no).label("seq")).where(
        mine, h.action_taken == "deletion"
    )
    restored = insert_lines(session, header, deleted, None)
    session.execute(delete(h).where(mine).execution_options(synchronize_session=False))
    session.execute(
        delete(SegmentCriteriaAction).where(
            SegmentCriteriaAction.segment_no == header.no, SegmentCriteriaAction.action_no == action_no
        )
    )
    session.flush()
    return {"action_no": action_no, "lines_removed": removed, "lines_restored": restored}


def _remove_inserted(session: Session, segment_no: str, mine: Any) -> int:
    """Delete the lines that the action of the history rows `mine` inserted; returns how many.

    Each Insertion row names a line by its number and contact. A line that a later action deleted came back
    under a new number when that action was undone (undoing a deletion appends a line), so its row no longer
    finds it; for such a contact the action's lines are its highest-numbered lines that no row names, as many
    as are missing. Lines that were there before the action stay (domain.md, deliberate improvement 2)."""
    h, line = SegmentHistory, SegmentLine
    inserted = and_(mine, h.action_taken == "insertion")
    expected = int(session.scalar(select(func.count()).select_from(h).where(inserted)) or 0)
    if not expected:
        return 0
    named = tuple_(line.line_no, line.contact_no).in_(select(h.line_no, h.contact_no).where(inserted))
    # The usual case, every row finds its line, costs one DELETE; otherwise it is undone and done again below.
    attempt = session.begin_nested()
    removed = delete_lines(session, segment_no, named, None)
    if removed == expected:
        attempt.commit()
        return removed
    attempt.rollback()
    in_place = (
        exists()
        .where(line.segment_no == h.segment_no, line.line_no == h.line_no, line.contact_no == h.contact_no)
        .correlate(h)
    )
    missing = (
        select(h.contact_no.label("contact_no"), func.count().label("n"))
        .where(inserted, ~in_place)
        .group_by(h.contact_no)
        .subquery("missing")
    )
    ranked = (
        select(
            line.line_no,
            missing.c.n,
            func.row_number().over(partition_by=line.contact_no, order_by=line.line_no.desc()).label("rank"),
        )
        .join(missing, missing.c.contact_no == line.contact_no)
        .where(line.segment_no == segment_no, ~named)
        .subquery("ranked")
    )
    moved = line.line_no.in_(select(ranked.c.line_no).where(ranked.c.rank <= ranked.c.n))
    return delete_lines(session, segment_no, or_(named, moved), None)


# --- saved criteria ----------------------------------------------------------------------------


def list_actions(session: Session, segment_no: str) -> list[SegmentCriteriaAction]:
    header = get_header(session, segment_no)
    return list(
        session.scalars(
            select(SegmentCriteriaAction)
            .where(SegmentCriteriaAction.segment_no == header.no)
            .order_by(SegmentCriteriaAction.action_no)
        )
    )


def save_criteria(session: Session, segment_no: str, data: SaveCriteria, *, user_id: str) -> SavedSegmentCriteria:
    """Save the segment's criteria actions under a new code."""
    actions = list_actions(session, segment_no)
    if not actions:
        raise Conflict(f"Segment {segment_no} has no criteria actions to save.")
    if session.get(SavedSegmentCriteria, data.code) is not None:
        raise Conflict(f"Saved segment criteria {data.code} already exists.", field="code")
    saved = SavedSegmentCriteria(code=data.code, description=data.description, user_id=user_id)
    session.add(saved)
    session.add_all(
        SavedSegmentCriteriaAction(
            code=data.code, action_no=a.action_no, action=a.action, options=a.options, criteria=a.criteria
        )
        for a in actions
    )
    session.flush()
    return saved


def saved_actions(session: Session, code: str) -> list[SavedSegmentCriteriaAction]:
    return list(
        session.scalars(
            select(SavedSegmentCriteriaAction)
            .where(SavedSegmentCriteriaAction.code == code)
            .order_by(SavedSegmentCriteriaAction.action_no)
        )
    )


def get_saved(session: Session, code: str) -> SavedSegmentCriteria:
    saved = session.get(SavedSegmentCriteria, code.strip().upper())
    if saved is None:
        raise NotFound(f"Saved segment criteria {code} does not exist.")
    return saved


def delete_saved(session: Session, code: str) -> None:
    session.delete(get_saved(session, code))
    session.flush()


def reuse_criteria(session: Session, segment_no: str, data: ReuseCriteria) -> dict[str, int]:
    """Replay every saved action as new actions of this segment (Entire Companies applies to Refine too)."""
    get_header(session, segment_no)
    saved = session.get(SavedSegmentCriteria, data.code)
    if saved is None:
        raise Invalid(f"Saved segment criteria {data.code} does not exist.", field="code")
    added = removed = 0
    for action in saved_actions(session, saved.code):
        if action.action == ADD:
            options = {k: bool(action.options.get(k)) for k in ADD_OPTIONS}
            added += add_contacts(session, segment_no, AddContacts(criteria=action.criteria, **options)).added
        else:
            body = RemoveContacts(
                criteria=action.criteria, entire_companies=bool(action.options.get("entire_companies"))
            )
            removed += remove_contacts(session, segment_no, action.action, body)[0]
    return {"added": added, "removed": removed}


# --- Reuse Logged Segment ------------------------------------------------------------------------


def reuse_logged_segment(session: Session, segment_no: str, entry_no: int, *, action: bool = True) -> AddResult:
    """One line per interaction of the logged segment (duplicates allowed, exclusion ignored,
    privacy-blocked contacts skipped), with the entry's campaign."""
    header = get_header(session, segment_no)
    if session.get(LoggedSegment, entry_no) is None:
        raise Invalid(f"Logged segment {entry_no} does not exist.", field="logged_segment_entry_no")
    criteria = {"interaction": {"logged_segment_entry_no": str(entry_no)}}
    action_no = record_action(
        session, header.no, ADD, {**{k: False for k in ADD_OPTIONS}, "allow_existing_contacts": True}, criteria
    )
    e = InteractionLogEntry
    of_segment = and_(e.logged_segment_entry_no == entry_no, e.contact_no != "")
    blocked = int(
        session.scalar(
            select(func.count())
            .select_from(e)
            .join(Contact, Contact.no == e.contact_no)
            .where(of_segment, Contact.privacy_blocked.is_(True))
        )
        or 0
    )
    source = (
        select(e.contact_no.label("contact_no"), e.entry_no.label("seq"), e.campaign_no.label("campaign_no"))
        .join(Contact, Contact.no == e.contact_no)
        .where(of_segment, Contact.privacy_blocked.is_(False))
    )
    added = insert_lines(session, header, source, action_no)
    return AddResult(added=added, action_no=action_no, skipped=Skipped(privacy_blocked=blocked))
