"""Contacts to and from CSV: every row is validated first, then bulk-inserted (COPY on PostgreSQL)."""

from __future__ import annotations

import csv
import gc
import io
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, compress, islice
from operator import not_
from typing import IO, Any, NamedTuple, TypeVar, cast

from sqlalchemy import Table, exists, func, insert, select
from sqlalchemy.orm import Session

from rapport.core import setup
from rapport.core.contacts import CONTACT_FILTER_FIELDS, INHERITED_FIELDS, Contact
from rapport.core.enums import ContactType, CorrespondenceType
from rapport.core.masterdata import EMAIL_PATTERN, Language, Salesperson
from rapport.db import dialect_name
from rapport.errors import Invalid, RapportError
from rapport.filters import compile_filters

# The contact fields of a CSV file, in the order of the API.
CSV_FIELDS: tuple[str, ...] = (
    "no",
    "type",
    "name",
    "company_no",
    "search_name",
    "address",
    "address_2",
    "post_code",
    "city",
    "country_code",
    "territory_code",
    "phone_no",
    "mobile_phone_no",
    "email",
    "job_title",
    "language_code",
    "salesperson_code",
    "correspondence_type",
    "exclude_from_segment",
    "privacy_blocked",
    "minor",
    "parental_consent_received",
)
# An export also carries the read-only company_name; an import ignores it.
EXPORT_FIELDS: tuple[str, ...] = (*CSV_FIELDS[:4], "company_name", *CSV_FIELDS[4:])
IGNORED_FIELDS = frozenset({"company_name"})

_TABLE = cast(Table, Contact.__table__)
INSERT_COLUMNS: tuple[str, ...] = tuple(c.key for c in _TABLE.columns)
BOOLEAN_FIELDS = frozenset(
    {"exclude_from_segment", "privacy_blocked", "minor", "parental_consent_received"}
)
CODE_FIELDS = frozenset(
    {"no", "company_no", "post_code", "country_code", "territory_code", "language_code",
     "salesperson_code"}
)
MAX_LENGTHS: dict[str, int] = {
    name: _TABLE.c[name].type.length  # type: ignore[attr-defined]
    for name in CSV_FIELDS
    if name not in BOOLEAN_FIELDS
}
BATCH_SIZE = 2_000  # rows read, checked and inserted at a time
ROWS_PER_INSERT = 100  # rows per INSERT statement on SQLite
_CHUNK = 900  # values per IN (...) lookup: below SQLite's oldest parameter limit

_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False, "": False}
_TYPES = frozenset(t.value for t in ContactType)
_CORRESPONDENCE_TYPES = frozenset(t.value for t in CorrespondenceType)
_EMAIL = re.compile(EMAIL_PATTERN)
_TAIL = re.compile(r"(\d+)(\D*)$")
REBUILD_INDEXES_FROM = 20_000  # rows: from here on, indexes are rebuilt after the insert (SQLite)
KEEP_ROWS = 250_000  # up to this many rows the file is read once; larger files are read twice
IMPORT_CACHE_KIB = 65_536  # SQLite's page cache during the insert and the index rebuild (default 2 MiB)

EXPORT_FILTER_FIELDS = CONTACT_FILTER_FIELDS


class RowError(NamedTuple):
    """One problem of a CSV file: its line (the header is line 1), the field and what is wrong."""

    line: int
    field: str
    reason: str


@dataclass
class ImportResult:
    """What an import did: contacts inserted, rows skipped as invalid, and the problems found."""

    imported: int
    skipped: int
    errors: list[RowError] = field(default_factory=list)


Progress = Callable[[int], None]
_T = TypeVar("_T")


# --- validation ----------------------------------------------------------------------------------

_AT = {name: i for i, name in enumerate(INSERT_COLUMNS)}
_NO, _TYPE_AT, _NAME, _SEARCH_NAME = (_AT[n] for n in ("no", "type", "name", "search_name"))
_COMPANY_NO, _COMPANY_NAME, _LOOKUP = (_AT[n] for n in ("company_no", "company_name", "lookup_contact_no"))
_LANGUAGE, _SALESPERSON, _EMAIL_AT = (_AT[n] for n in ("language_code", "salesperson_code", "email"))
_CORRESPONDENCE_AT = _AT["correspondence_type"]
_MINOR, _CONSENT, _BLOCKED = (_AT[n] for n in ("minor", "parental_consent_received", "privacy_blocked"))
_BLANK_ROW: tuple[Any, ...] = tuple(False if n in BOOLEAN_FIELDS else "" for n in INSERT_COLUMNS)
_COMPANY, _PERSON = ContactType.COMPANY.value, ContactType.PERSON.value
_COMPANY_IF_BLANK = {"": _COMPANY}  # .get(type_, type_): a blank type is a company
_LOWERED = frozenset({"type", "correspondence_type"})
_STRIPPED = frozenset({"email"})


class _Rows(NamedTuple):
    """Rows of the file as read: their lines, their cells one after another and the count of each
    row's cells.

    No object per row, for the garbage collector to look at; and once every row has as many cells
    as the header, a column is a slice of the cells (`_columns`).
    """

    lines: list[int]
    cells: list[str]
    widths: list[int]

    def rows(self) -> Iterator[list[str]]:
        """The cells of each row."""
        end = 0
        for width in self.widths:
            start, end = end, end + width
            yield self.cells[start:end]


class _Batch(NamedTuple):
    """Rows of the file read into columns: their lines, and the values of each of INSERT_COLUMNS.

    Tuples of strings and booleans, which the garbage collector stops tracking: what is kept of a
    large file costs no time in its collections.
    """

    lines: tuple[int, ...]
    columns: list[Sequence[Any]]


class _Validator:
    """The checks of one import: batch by batch first, then across rows and against the database.

    Rows are tuples of cells in the order of the file's header. A batch of rows is read into
    columns, a sequence of values per column of the contact table (INSERT_COLUMNS): each check and
    each default then runs over a whole column rather than cell by cell, and `finish` completes
    the columns of the good rows for the insert.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.ms = setup.get_marketing_setup(session)
        series = session.get(setup.NumberSeries, self.ms.contact_nos) if self.ms.contact_nos else None
        self.manual_nos_allowed = series is None or series.manual_nos
        self.languages = set(session.scalars(select(Language.code)))
        self.salespeople = set(session.scalars(select(Salesperson.code)))
        self.inherited = tuple(
            _AT[f] for flag, fields in INHERITED_FIELDS.items() if getattr(self.ms, flag) for f in fields
        )
        self.inherited_names = tuple(INSERT_COLUMNS[i] for i in self.inherited)
        self.defaults = tuple(
            (_AT[name], value)
            for name, value in (
                ("correspondence_type", self.ms.default_correspondence_type),
                ("salesperson_code", self.ms.default_salesperson_code),
                ("language_code", self.ms.default_language_code),
                ("country_code", self.ms.default_country_code),
            )
            if value
        )
        defaults = dict(self.defaults)
        # what a company of the file passes on to its persons: its value, else Marketing Setup's
        self.inherited_defaults = tuple((at, defaults.get(at, "")) for at in self.inherited)
        self.width = 0
        self.codes: list[tuple[int, int]] = []  # (position in the row, index in the values)
        self.texts: list[tuple[int, int]] = []
        self.stripped: list[tuple[int, int]] = []
        self.lowered: list[tuple[int, int]] = []
        self.booleans: list[tuple[int, int]] = []
        self.lengths: list[tuple[int, str, int]] = []
        self.errors: list[RowError] = []
        self.bad_lines: set[int] = set()
        self.line_of_no: dict[str, int] = {}  # first line of each number given in the file
        self.file_persons: set[str] = set()
        self.company_lines: dict[str, int] = {}
        # company no -> (name, *inherited values) of each company a person may belong to
        self.companies: dict[str, tuple[str, ...]] = {}
        # the company_no of each person that has one, and the person's line
        self.ref_nos: list[str] = []
        self.ref_lines: list[int] = []
        self.unnumbered: list[int] = []
        self.drawn: dict[int, str] = {}
        self.db_empty = False
        self.rows = 0
        # The batches read while checking, kept for the insert so the file is read once (small files).
        self.kept: list[_Batch] | None = []

    # header and rows

    def set_header(self, names: list[str], line: int = 1) -> None:
        """Check the (normalised) column names and read the known ones from now on."""
        self.width = len(names)
        seen: set[str] = set()
        for position, name in enumerate(names):
            if name in seen:
                self.error(line, name, "the column appears more than once in the header")
                continue
            seen.add(name)
            if name in IGNORED_FIELDS:
                continue
            if name not in CSV_FIELDS:
                self.error(
                    line, name or "(blank)",
                    f"unknown column; the columns are {', '.join(EXPORT_FIELDS)}",
                )
                continue
            at = _AT[name]
            if name in BOOLEAN_FIELDS:
                self.booleans.append((position, at))
                continue
            kind = (
                self.codes if name in CODE_FIELDS
                else self.lowered if name in _LOWERED
                else self.stripped if name in _STRIPPED
                else self.texts
            )
            kind.append((position, at))
            self.lengths.append((at, name, MAX_LENGTHS[name]))

    @property
    def fatal(self) -> bool:
        """Whether the file as a whole is wrong (its header), so that no row can be imported."""
        return any(e.line == 1 for e in self.errors)

    def error(self, line: int, field: str, reason: str) -> None:
        self.errors.append(RowError(line, field, reason))
        self.bad_lines.add(line)

    def read(self, cells: list[tuple[str, ...]], count: int) -> list[Sequence[Any]]:
        """The columns of `count` rows of the file (in the order of its header) read into columns of
        values (None for a cell that is not a boolean)."""
        columns: list[Sequence[Any]] = [(blank,) * count for blank in _BLANK_ROW]
        for position, at in self.codes:
            columns[at] = _mapped(str.upper, _stripped(cells[position]))
        for position, at in self.texts:
            columns[at] = cells[position]
        for position, at in self.stripped:
            columns[at] = _stripped(cells[position])
        for position, at in self.lowered:
            columns[at] = _mapped(str.lower, _stripped(cells[position]))
        for position, at in self.booleans:
            values = tuple(map(_BOOLEANS.get, cells[position]))
            if None in values:  # a cell that is not written as a key of _BOOLEANS: normalise them
                values = tuple(map(_BOOLEANS.get, _mapped(str.lower, _stripped(cells[position]))))
            columns[at] = values
        types = columns[_TYPE_AT]
        columns[_TYPE_AT] = tuple(map(_COMPANY_IF_BLANK.get, types, types))
        return columns

    def _well_formed(self, batch: _Rows) -> tuple[list[int], list[tuple[str, ...]]]:
        """The lines and columns of the batch's rows that have a value per column; the others are
        errors."""
        width = self.width
        if all(map(width.__eq__, batch.widths)):
            return batch.lines, _columns(batch.cells, width)
        lines: list[int] = []
        cells: list[str] = []
        for line, row in zip(batch.lines, batch.rows(), strict=True):
            if len(row) == width:
                lines.append(line)
                cells += row
            else:
                more = "more" if len(row) > width else "fewer"
                self.error(line, "", f"the row has {len(row)} values, {more} than the {width} columns of the header")
        return lines, _columns(cells, width)

    def check(self, batch: _Rows) -> None:
        """Check a batch of rows and note what the checks across rows need.

        The checks run column by column in the order they have for one row, so that the errors of
        a line, once sorted by line, come in that order.
        """
        self.rows += len(batch.lines)
        first_error = len(self.errors)
        lines, cells = self._well_formed(batch)
        columns = self.read(cells, len(lines))
        if self.kept is not None:
            if self.rows <= KEEP_ROWS:
                self.kept.append(_Batch(tuple(lines), columns))
            else:
                self.kept = None
        self._check_values(lines, cells, columns)
        self._check_numbers(lines, columns)
        self._note_good_rows(lines, columns, clean=len(self.errors) == first_error)

    def _check_values(
        self, lines: Sequence[int], cells: list[tuple[str, ...]], columns: list[Sequence[Any]]
    ) -> None:
        """The checks of each value on its own, a column at a time."""
        error = self.error
        for position, at in self.booleans:
            if None in columns[at]:
                for line, cell, value in zip(lines, cells[position], columns[at], strict=True):
                    if value is None:
                        error(line, INSERT_COLUMNS[at], f'"{cell}" is not a boolean; use true or false')
        for at, name, max_length in self.lengths:
            if lines and max(map(len, columns[at])) > max_length:
                for line, value in zip(lines, columns[at], strict=True):
                    if len(value) > max_length:
                        error(line, name, f"{len(value)} characters is too long; at most {max_length}")
        types, correspondences = columns[_TYPE_AT], columns[_CORRESPONDENCE_AT]
        if not _TYPES.issuperset(types):
            for line, type_ in zip(lines, types, strict=True):
                if type_ not in _TYPES:
                    error(line, "type", f'"{type_}" is not a contact type; use company or person')
        if not _CORRESPONDENCE_TYPES.issuperset(correspondences):
            for line, correspondence in zip(lines, correspondences, strict=True):
                if correspondence not in _CORRESPONDENCE_TYPES:
                    error(line, "correspondence_type", f'"{correspondence}" is not a correspondence '
                          "type; use hard_copy, email or leave it blank")
        match = _EMAIL.match
        for line, email in zip(lines, columns[_EMAIL_AT], strict=True):
            if email and not match(email):
                error(line, "email", f'"{email}" is not an e-mail address')
        for at, known, what in ((_LANGUAGE, self.languages, "Language"),
                                (_SALESPERSON, self.salespeople, "Salesperson")):
            unknown = set(columns[at]).difference(known, ("",))
            if unknown:
                for line, code in zip(lines, columns[at], strict=True):
                    if code in unknown:
                        error(line, INSERT_COLUMNS[at], f"{what} {code} does not exist.")

    def _check_numbers(self, lines: Sequence[int], columns: list[Sequence[Any]]) -> None:
        """The checks of company_no and no, noting the numbers and references the checks across
        rows need."""
        error = self.error
        nos, company_nos, types = columns[_NO], columns[_COMPANY_NO], columns[_TYPE_AT]
        line_of_no, ref_nos, ref_lines = self.line_of_no, self.ref_nos, self.ref_lines
        for line, no, company_no, type_ in zip(lines, nos, company_nos, types, strict=True):
            is_company = type_ == _COMPANY
            if company_no:
                if is_company:
                    if company_no != no:
                        error(line, "company_no", "A company's company_no is its own number; leave it blank.")
                elif type_ == _PERSON:
                    if company_no == no:
                        error(line, "company_no", "A person cannot be its own company.")
                    ref_nos.append(company_no)
                    ref_lines.append(line)
            if no:
                if not self.manual_nos_allowed:
                    error(line, "no", f"Number series {self.ms.contact_nos} does not allow manual numbers; "
                          "leave no blank.")
                first = line_of_no.setdefault(no, line)
                if first != line:
                    error(line, "no", f"Contact {no} is also on line {first}.")
                elif is_company:
                    self.company_lines[no] = line
                else:
                    self.file_persons.add(no)

    def _note_good_rows(self, lines: Sequence[int], columns: list[Sequence[Any]], clean: bool) -> None:
        """Note the good rows that need a number, and what each good company passes on."""
        nos, types = columns[_NO], columns[_TYPE_AT]
        if clean:
            self.unnumbered.extend(compress(lines, map(not_, nos)))
            companies = compress(range(len(lines)), map(_COMPANY.__eq__, types))
            numbered = [i for i in companies if nos[i]]
        else:
            bad_lines = self.bad_lines
            good = [i for i, line in enumerate(lines) if line not in bad_lines]
            self.unnumbered.extend(lines[i] for i in good if not nos[i])
            numbered = [i for i in good if nos[i] and types[i] == _COMPANY]
        if numbered:  # what each company passes on to its persons, Marketing Setup's defaults included
            passed = [[columns[_NAME][i] for i in numbered]]
            for at, default in self.inherited_defaults:
                values = [columns[at][i] for i in numbered]
                passed.append([value or default for value in values] if default else values)
            self.companies.update(zip([nos[i] for i in numbered], zip(*passed, strict=True), strict=True))

    # across rows

    def check_database(self) -> None:
        """The checks that need every row: numbers taken, the companies of persons."""
        session = self.session
        self.db_empty = not session.scalar(select(exists().where(Contact.no != "")))
        if not self.db_empty:
            for nos in _chunks(self.line_of_no):
                for no in session.scalars(select(Contact.no).where(Contact.no.in_(nos))):
                    self.error(self.line_of_no[no], "no", f"Contact {no} already exists.")
        self._check_company_refs(self.db_empty)
        self.errors.sort(key=lambda e: e.line)

    def _check_company_refs(self, db_empty: bool) -> None:
        wrong: dict[str, str] = {}  # company no -> what is wrong with it, for each person of it
        from_db: list[str] = []
        for company_no in dict.fromkeys(self.ref_nos):
            line = self.company_lines.get(company_no)
            if line is not None:
                if line in self.bad_lines:
                    wrong[company_no] = f"Company {company_no} on line {line} has errors."
            elif company_no in self.file_persons:
                line = self.line_of_no[company_no]
                wrong[company_no] = f"Contact {company_no} on line {line} is a person, not a company."
            else:
                from_db.append(company_no)
        found: dict[str, tuple[str, tuple[str, ...]]] = {}
        if not db_empty:
            columns = [_TABLE.c.no, _TABLE.c.type, _TABLE.c.name,
                       *(_TABLE.c[f] for f in self.inherited_names)]
            for nos in _chunks(from_db):
                for no, type_, *rest in self.session.execute(select(*columns).where(_TABLE.c.no.in_(nos))):
                    found[no] = (type_, tuple(rest))
        for company_no in from_db:
            if company_no not in found:
                wrong[company_no] = f"Company contact {company_no} does not exist."
            elif found[company_no][0] != _COMPANY:
                wrong[company_no] = f"Contact {company_no} is a person, not a company."
            else:
                self.companies[company_no] = found[company_no][1]
        if wrong:
            for company_no, line in zip(self.ref_nos, self.ref_lines, strict=True):
                if company_no in wrong:
                    self.error(line, "company_no", wrong[company_no])

    def draw_numbers(self, skip_invalid: bool) -> None:
        """Number the good rows without one from the series, which moves on unless that fails."""
        lines = [line for line in self.unnumbered if line not in self.bad_lines]
        if not lines:
            return
        errors_before = len(self.errors)
        series, numbers, reason = _next_numbers(self.session, self.ms.contact_nos, len(lines))
        for line in lines[len(numbers):]:
            self.error(line, "no", reason or "no number left in the series")
        taken: set[str] = set()
        if not self.db_empty:
            for nos in _chunks(numbers):
                taken.update(self.session.scalars(select(Contact.no).where(Contact.no.in_(nos))))
        for line, no in zip(lines, numbers, strict=False):
            if no in taken or no in self.line_of_no:
                self.error(line, "no", f"Contact {no} already exists; the number series "
                           f"{self.ms.contact_nos} is behind.")
            else:
                self.drawn[line] = no
        self.errors.sort(key=lambda e: e.line)
        if series is not None and numbers and (skip_invalid or len(self.errors) == errors_before):
            series.last_no_used = numbers[-1]  # past numbers already taken, too: catch up
            self.session.flush()

    # the row as stored

    def finish(self, lines: Sequence[int], columns: list[Sequence[Any]]) -> list[Sequence[Any]]:
        """The columns of the batch's good rows as stored, with the defaults `create_contact` applies."""
        bad_lines, drawn = self.bad_lines, self.drawn
        columns = list(columns)
        nos = columns[_NO]
        if not all(nos):
            nos = columns[_NO] = [no or drawn.get(line, "") for line, no in zip(lines, nos, strict=True)]
        if not all(nos) or not bad_lines.isdisjoint(lines):  # else numbers were not drawn: no import
            keep = [i for i, line in enumerate(lines) if nos[i] and line not in bad_lines]
            columns = [[column[i] for i in keep] for column in columns]
            nos = columns[_NO]
        types, names, company_nos = columns[_TYPE_AT], columns[_NAME], columns[_COMPANY_NO]
        is_company = [type_ == _COMPANY for type_ in types]
        companies = self.companies
        company_of = [
            None if mine or not company_no else companies.get(company_no)
            for mine, company_no in zip(is_company, company_nos, strict=True)
        ]
        columns[_COMPANY_NO] = [
            no if mine else company_no for mine, no, company_no in zip(is_company, nos, company_nos, strict=True)
        ]
        columns[_LOOKUP] = ["" if mine else no for mine, no in zip(is_company, nos, strict=True)]
        if any(company_of):
            # what the companies pass on, as columns beside the persons' own values (blank: nothing)
            nothing = ("",) * (1 + len(self.inherited))
            passed = _columns(chain.from_iterable([company or nothing for company in company_of]), len(nothing))
            for at, values in zip(self.inherited, passed[1:], strict=True):
                if any(values):
                    columns[at] = [own or value for own, value in zip(columns[at], values, strict=True)]
            company_names = passed[0]
        else:
            company_names = ("",) * len(nos)
        columns[_COMPANY_NAME] = [
            name if mine else company_name
            for mine, name, company_name in zip(is_company, names, company_names, strict=True)
        ]
        length = MAX_LENGTHS["search_name"]
        columns[_SEARCH_NAME] = [
            search_name or name.upper()[:length]
            for search_name, name in zip(columns[_SEARCH_NAME], names, strict=True)
        ]
        for at, default in self.defaults:
            if not all(columns[at]):
                columns[at] = [value or default for value in columns[at]]
        if any(columns[_MINOR]) or any(columns[_CONSENT]):
            columns[_BLOCKED] = [
                blocked or minor or consent
                for blocked, minor, consent in zip(columns[_BLOCKED], columns[_MINOR], columns[_CONSENT], strict=True)
            ]
        return columns

    def prepared(self, batches: Iterable[_Rows] | None) -> Iterator[list[Sequence[Any]]]:
        """The columns of the rows to insert, a batch at a time: from the values kept while checking,
        or from a second reading."""
        if batches is None:
            assert self.kept is not None
            for kept in self.kept:
                yield self.finish(kept.lines, kept.columns)
            return
        bad_lines = self.bad_lines
        for batch in batches:
            lines, cells = batch.lines, batch.cells
            if not bad_lines.isdisjoint(lines):
                good = [line not in bad_lines for line in lines]
                lines = list(compress(lines, good))
                cells = list(chain.from_iterable(compress(batch.rows(), good)))
            yield self.finish(lines, self.read(_columns(cells, self.width), len(lines)))


def _column_names(header: list[str]) -> list[str]:
    return [h.removeprefix("\ufeff").strip().lower() for h in header]


def _columns(cells: Iterable[str], width: int) -> list[tuple[str, ...]]:
    """The columns of rows of `width` cells each, given one after another."""
    flat = tuple(cells)
    return [flat[position::width] for position in range(width)]


def _stripped(cells: tuple[str, ...]) -> tuple[str, ...]:
    """The cells without leading and trailing whitespace: the same cells when none has any
    whitespace (every whitespace character but the space is unprintable), found in one pass."""
    joined = "".join(cells)
    if " " not in joined and joined.isprintable():
        return cells
    return tuple(map(str.strip, cells))


def _mapped(method: Callable[[str], str], cells: tuple[str, ...]) -> tuple[str, ...]:
    """The cells through str.upper or str.lower: the same cells when the joined cells are their
    own upper (lower) case, found in one pass. Neither makes a string shorter, so the joined
    cells are unchanged only when each is; and then none is a capital sigma, whose lower case
    depends on its neighbours."""
    joined = "".join(cells)
    if method(joined) == joined:
        return cells
    return tuple(map(method, cells))


def _chunks(values: Iterable[_T], size: int = _CHUNK) -> Iterator[list[_T]]:
    it = iter(values)
    while chunk := list(islice(it, size)):
        yield chunk


def _next_numbers(
    session: Session, code: str, count: int
) -> tuple[setup.NumberSeries | None, list[str], str | None]:
    """The series (locked) and up to `count` of its next numbers, with the reason when fewer."""
    if not code:
        return None, [], ("contact_nos must have a value in Marketing Setup: set up a number "
                          "series for it, or give the number yourself.")
    series = session.scalar(
        select(setup.NumberSeries).where(setup.NumberSeries.code == code).with_for_update()
    )
    if series is None:
        return None, [], f"Number series {code} (contact_nos) does not exist."
    try:
        if series.last_no_used:
            first = setup.increment_no(series.last_no_used, series.increment_by)
        elif series.starting_no:
            first = series.starting_no
        else:
            return series, [], f"Number series {code} has no starting number."
    except RapportError as exc:
        return series, [], exc.message
    match = _TAIL.search(first)
    if match is None:
        return series, [], f"The number {first} has no digits to increment."
    prefix, digits, suffix = first[: match.start(1)], match.group(1), match.group(2)
    start, width, step = int(digits), len(digits), series.increment_by
    # the ending number compares by value when it has the same shape (as setup.next_no does)
    end = series.ending_no
    end_match = _TAIL.search(end) if end else None
    same_shape = bool(
        end_match and end[: end_match.start(1)] == prefix and end_match.group(2) == suffix
    )
    end_value = int(end_match.group(1)) if end_match and same_shape else 0
    numbers: list[str] = []
    for k in range(count):
        value = start + k * step
        no = f"{prefix}{str(value).zfill(width)}{suffix}"
        if end and (value > end_value if same_shape else (len(no), no) > (len(end), end)):
            return series, numbers, f"Number series {code} is exhausted: it ends at {end}."
        if len(no) > MAX_LENGTHS["no"]:
            return series, numbers, f"Number series {code} would give {no}, over 20 characters."
        numbers.append(no)
    return series, numbers, None


def validate_rows(
    session: Session, rows: Iterable[dict[str, str]]
) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Check every row and draw numbers for the good ones: (rows ready to insert, errors).

    The rows are those of a file whose header is line 1 (`csv.DictReader`'s); a key missing from
    a row is a blank cell, a None value (DictReader's filler) a missing one.
    """
    validator = _Validator(session)
    dicts = list(rows)
    keys: dict[Any, None] = {}
    for raw in dicts:
        keys.update(dict.fromkeys(raw))
    header = [k for k in keys if k is not None]
    validator.set_header(_column_names(header))
    cells: list[list[str]] = []
    for raw in dicts:
        given = [raw.get(k, "") for k in header]
        extra = raw.get(None) or []  # type: ignore[call-overload]
        cells.append([*(c for c in given if c is not None), *extra])
    batches = [
        _Rows(list(range(start + 2, start + 2 + len(chunk))), list(chain.from_iterable(chunk)), list(map(len, chunk)))
        for start, chunk in zip(range(0, len(cells), BATCH_SIZE), _chunks(cells, BATCH_SIZE), strict=True)
    ]
    for batch in batches:
        validator.check(batch)
    validator.check_database()
    validator.draw_numbers(skip_invalid=True)
    valid = [
        dict(zip(INSERT_COLUMNS, row, strict=True))
        for columns in validator.prepared(batches)
        for row in zip(*columns, strict=True)
    ]
    return valid, validator.errors


# --- import --------------------------------------------------------------------------------------


@contextmanager
def _open_csv(path_or_file: str | os.PathLike[str] | IO[Any]) -> Iterator[IO[Any]]:
    """A seekable stream of the CSV: the file's bytes, or the text a caller already decoded."""
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "rb") as f:
            yield f
        return
    stream: IO[Any] = path_or_file
    if stream.seekable():
        yield stream
        return
    binary = isinstance(stream.read(0), bytes)
    mode, newline = ("w+b", None) if binary else ("w+", "")
    with tempfile.TemporaryFile(mode, newline=newline) as spool:
        while chunk := stream.read(1 << 20):
            spool.write(chunk)
        spool.seek(0)
        yield spool


def _decoded(f: IO[Any]) -> Generator[str, None, None]:
    """The lines of the stream as text; bytes end a line at a line feed only, as binary lines do.

    Bytes are decoded in blocks; when one is not UTF-8, the lines are read again one by one from
    the start, to name the bad line.
    """
    if not isinstance(f.read(0), bytes):
        yield from f
        return
    start = f.tell()
    text = io.TextIOWrapper(cast(IO[bytes], f), encoding="utf-8", newline="\n")
    try:
        yield from text
        return
    except UnicodeDecodeError as exc:
        error = exc
    finally:
        if not f.closed:  # the stream stays open for its owner (and a second reading)
            text.detach()
    f.seek(start)
    for number, raw in enumerate(f, start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Invalid(
                f"line {number}: the file is not UTF-8 (byte {exc.start + 1} of the line); save it "
                "as UTF-8 and import it again.",
                field="file",
            ) from exc
    raise error


def _batches(f: IO[Any], validator: _Validator | None) -> Iterator[_Rows]:
    """The data rows that are not blank, BATCH_SIZE at a time, with their lines; checks the header
    when given a validator."""
    lines = _decoded(f)
    reader = csv.reader(lines)
    line = 1
    header: list[str] | None = None
    batch = _Rows([], [], [])
    try:
        for row in reader:
            if header is None:
                header = _column_names(row)
                if not header:
                    break
                if validator is not None:
                    validator.set_header(header, line)
            elif any(row):
                batch.lines.append(line)
                batch.cells.extend(row)
                batch.widths.append(len(row))
                if len(batch.lines) == BATCH_SIZE:
                    yield batch
                    batch = _Rows([], [], [])
            line = reader.line_num + 1
    except csv.Error as exc:
        raise Invalid(f"line {line}: the file is not valid CSV ({exc}).", field="file") from exc
    finally:
        lines.close()
    if batch.lines:
        yield batch
    if not header and validator is not None:
        validator.error(1, "file", "line 1 must be the header: a row of field names")


def import_contacts(
    session: Session,
    path_or_file: str | os.PathLike[str] | IO[Any],
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import contacts from a CSV file; nothing when a row is bad unless `skip_invalid`."""
    with _collector_paused():
        return _import(session, path_or_file, skip_invalid, progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off for the duration.

    An import allocates containers by the hundred thousand (rows, columns, the companies' values)
    and keeps many of them to the end, so the collector would run hundreds of times and walk them
    again and again, for nothing: none of them is part of a reference cycle. Measured on 100,000
    rows: about 0.3 s of 1.9 s. Memory freed by reference counting is freed as usual.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _import(
    session: Session,
    path_or_file: str | os.PathLike[str] | IO[Any],
    skip_invalid: bool,
    progress: Progress | None,
) -> ImportResult:
    validator = _Validator(session)
    with _open_csv(path_or_file) as f:
        start = f.tell()
        for batch in _batches(f, validator):
            validator.check(batch)
        validator.check_database()
        if not validator.fatal and (skip_invalid or not validator.errors):
            validator.draw_numbers(skip_invalid)
        if validator.fatal or (validator.errors and not skip_invalid):
            return ImportResult(0, validator.rows, validator.errors)
        if validator.kept is not None:
            rows = validator.prepared(None)
        else:
            f.seek(start)
            rows = validator.prepared(_batches(f, None))
        session.flush()
        if dialect_name(session) == "postgresql":
            imported = _copy_rows(session, rows, progress)
        else:
            imported = _insert_rows(session, rows, progress, expected=validator.rows - len(validator.bad_lines))
    skipped = validator.rows - imported
    return ImportResult(imported, skipped, validator.errors)


def _insert_rows(
    session: Session, batches: Iterator[list[Sequence[Any]]], progress: Progress | None, expected: int = 0
) -> int:
    connection = session.connection()
    existing = int(connection.execute(select(func.count()).select_from(_TABLE)).scalar_one())
    # A large file into a small table: build the secondary indexes once at the end instead of
    # maintaining them row by row (same transaction: SQLite's DDL is transactional).
    rebuild = expected >= REBUILD_INDEXES_FROM and expected > existing
    # A page cache that holds the new pages (and the sorts of the rebuild) until the commit
    # instead of spilling them to the log mid-transaction; the connection's own size afterwards.
    cache_size = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    if cache_size > 0:  # pages, not KiB
        cache_kib = cache_size * int(connection.exec_driver_sql("PRAGMA page_size").scalar_one()) // 1024
    else:
        cache_kib = -cache_size
    connection.exec_driver_sql(f"PRAGMA cache_size = -{max(cache_kib, IMPORT_CACHE_KIB)}")
    try:
        if rebuild:  # an error rolls the drops back with everything else
            for index in _TABLE.indexes:
                index.drop(connection)
        done = _insert_batches(connection, batches, progress)
        if rebuild:
            for index in _TABLE.indexes:
                index.create(connection)
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {cache_size}")
    return done


# The positions of the booleans among INSERT_COLUMNS. SQLite stores a boolean as 0 or 1, and the
# driver binds an int as it is but a bool (a subclass of int) only after looking for an adapter,
# which takes several times as long: the insert binds them as ints.
_BOOLEAN_AT = frozenset(at for at, name in enumerate(INSERT_COLUMNS) if name in BOOLEAN_FIELDS)


def _insert_batches(connection: Any, batches: Iterator[list[Sequence[Any]]], progress: Progress | None) -> int:
    # The Core statement compiled once, its VALUES repeated for ROWS_PER_INSERT rows and run by the
    # driver: the per-row parameter processing of Session.execute would cost more than the insert
    # itself, and a statement per row (executemany) more than one per hundred rows.
    compiled = insert(_TABLE).compile(dialect=connection.dialect, column_keys=list(INSERT_COLUMNS))
    assert compiled.positiontup == list(INSERT_COLUMNS)
    into, values = str(compiled).split(" VALUES ")
    placeholders = values.removeprefix("(").removesuffix(")").split(", ")
    assert len(placeholders) == len(INSERT_COLUMNS)
    driver = connection.connection.driver_connection
    limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(INSERT_COLUMNS)
    size = max(1, min(ROWS_PER_INSERT, limit))
    statements: dict[tuple[str, int], str] = {}  # (VALUES of a row, rows) -> INSERT
    cursor = driver.cursor()
    done = 0
    try:
        for columns in batches:
            count = len(columns[0])
            row, width, parameters = _parameters(columns, placeholders)
            for start in range(0, count, size):
                rows = min(size, count - start)
                sql = statements.get((row, rows))
                if sql is None:
                    sql = statements[row, rows] = f"{into} VALUES {', '.join([row] * rows)}"
                cursor.execute(sql, parameters[start * width : (start + rows) * width])
            done += count
            if count and progress is not None:
                progress(done)
    finally:
        cursor.close()
    return done


def _parameters(columns: list[Sequence[Any]], placeholders: list[str]) -> tuple[str, int, list[Any]]:
    """The VALUES of a row of the batch's columns (of INSERT_COLUMNS), how many of them are bound,
    and the values to bind, row after row.

    A column with the same blank (or false, or true) value in each row of the batch is written into
    the statement rather than bound row after row; a boolean is bound as an int.
    """
    literals = [_literal(at, column) for at, column in enumerate(columns)]
    bound = [(at, column) for at, column in enumerate(columns) if literals[at] is None]
    width = len(bound)
    parameters: list[Any] = [None] * (len(columns[0]) * width)
    for position, (at, column) in enumerate(bound):  # a column at once: every width-th value
        parameters[position::width] = list(map(int, column)) if at in _BOOLEAN_AT else column
    row = [literal or placeholder for literal, placeholder in zip(literals, placeholders, strict=True)]
    return f"({', '.join(row)})", width, parameters


def _literal(at: int, column: Sequence[Any]) -> str | None:
    """The SQL of the value of a column (of INSERT_COLUMNS) in every row when it is a blank
    string, false or true; None otherwise."""
    if not any(column):
        return "0" if at in _BOOLEAN_AT else "''"
    if at in _BOOLEAN_AT and all(column):
        return "1"
    return None


def _copy_rows(session: Session, batches: Iterator[list[Sequence[Any]]], progress: Progress | None) -> int:
    driver = session.connection().connection.driver_connection
    assert driver is not None
    sql = f"COPY {_TABLE.name} ({', '.join(INSERT_COLUMNS)}) FROM STDIN"
    done = 0
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for columns in batches:
            count = len(columns[0])
            for row in zip(*columns, strict=True):
                copy.write_row(row)
            done += count
            if count and progress is not None:
                progress(done)
    return done


# --- export --------------------------------------------------------------------------------------


def export_contacts(session: Session, file: IO[str], filters: dict[str, str] | None = None) -> int:
    """Write a header and one row per contact (filtered, by number) to `file`; returns the count."""
    conditions = compile_filters(EXPORT_FILTER_FIELDS, filters or {})
    stmt = select(*(_TABLE.c[name] for name in EXPORT_FIELDS)).where(*conditions).order_by(_TABLE.c.no)
    counted = [0]
    for chunk in csv_chunks(session, stmt, counted):
        file.write(chunk)
    return counted[0]


def csv_chunks(session: Session, stmt: Any, counted: list[int] | None = None) -> Iterator[str]:
    """A SELECT of EXPORT_FIELDS as CSV text (header first), streamed in chunks of about 64 KB."""
    booleans = [i for i, name in enumerate(EXPORT_FIELDS) if name in BOOLEAN_FIELDS]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for row in session.execute(stmt.execution_options(yield_per=2000)):
        values = list(row)
        for i in booleans:
            values[i] = "true" if values[i] else "false"
        writer.writerow(values)
        if counted is not None:
            counted[0] += 1
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
