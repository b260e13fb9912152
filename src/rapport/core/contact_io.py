"""Contacts to and from CSV: every row is validated first, then bulk-inserted (COPY on PostgreSQL)."""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Any, NamedTuple, cast

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
BATCH_SIZE = 10_000
_CHUNK = 900  # values per IN (...) lookup: below SQLite's oldest parameter limit

_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False, "": False}
_TYPES = frozenset(t.value for t in ContactType)
_CORRESPONDENCE_TYPES = frozenset(t.value for t in CorrespondenceType)
_EMAIL = re.compile(EMAIL_PATTERN)
_TAIL = re.compile(r"(\d+)(\D*)$")
REBUILD_INDEXES_FROM = 20_000  # rows: from here on, indexes are rebuilt after the insert (SQLite)
KEEP_ROWS = 250_000  # up to this many rows the file is read once; larger files are read twice

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


# --- validation ----------------------------------------------------------------------------------

_AT = {name: i for i, name in enumerate(INSERT_COLUMNS)}
_NO, _TYPE_AT, _NAME, _SEARCH_NAME = (_AT[n] for n in ("no", "type", "name", "search_name"))
_COMPANY_NO, _COMPANY_NAME, _LOOKUP = (_AT[n] for n in ("company_no", "company_name", "lookup_contact_no"))
_LANGUAGE, _SALESPERSON, _EMAIL_AT = (_AT[n] for n in ("language_code", "salesperson_code", "email"))
_CORRESPONDENCE_AT = _AT["correspondence_type"]
_MINOR, _CONSENT, _BLOCKED = (_AT[n] for n in ("minor", "parental_consent_received", "privacy_blocked"))
_BLANK_ROW: tuple[Any, ...] = tuple(False if n in BOOLEAN_FIELDS else "" for n in INSERT_COLUMNS)
_COMPANY, _PERSON = ContactType.COMPANY.value, ContactType.PERSON.value
_LOWERED = frozenset({"type", "correspondence_type"})
_STRIPPED = frozenset({"email"})


class _Validator:
    """The checks of one import: row by row first, then across rows and against the database.

    Rows are lists of cells in the order of the file's header; values are lists in the order of
    the contact table's columns (INSERT_COLUMNS), ready to insert once `finish` has run.
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
        self.company_refs: dict[str, list[int]] = {}
        self.unnumbered: list[int] = []
        self.drawn: dict[int, str] = {}
        self.db_empty = False
        self.rows = 0
        # The values read while checking, kept for the insert so the file is read once (small files).
        self.kept: list[tuple[int, list[Any]]] | None = []

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

    def values(self, row: list[str]) -> list[Any]:
        """The row's cells read into values (None for a cell that is not a boolean)."""
        values = list(_BLANK_ROW)
        for position, at in self.codes:
            values[at] = row[position].strip().upper()
        for position, at in self.texts:
            values[at] = row[position]
        for position, at in self.stripped:
            values[at] = row[position].strip()
        for position, at in self.lowered:
            values[at] = row[position].strip().lower()
        for position, at in self.booleans:
            values[at] = _BOOLEANS.get(row[position].strip().lower())
        if not values[_TYPE_AT]:
            values[_TYPE_AT] = _COMPANY
        return values

    def check(self, line: int, row: list[str]) -> None:
        """Check one row and note what the checks across rows need."""
        self.rows += 1
        first_error = len(self.errors)
        if len(row) != self.width:
            more = "more" if len(row) > self.width else "fewer"
            self.error(line, "", f"the row has {len(row)} values, {more} than the "
                       f"{self.width} columns of the header")
            return
        values = self.values(row)
        if self.kept is not None:
            if len(self.kept) < KEEP_ROWS:
                self.kept.append((line, values))
            else:
                self.kept = None
        for position, at in self.booleans:
            if values[at] is None:
                self.error(line, INSERT_COLUMNS[at], f'"{row[position]}" is not a boolean; use '
                           "true or false")
        for at, name, max_length in self.lengths:
            if len(values[at]) > max_length:
                self.error(line, name, f"{len(values[at])} characters is too long; at most "
                           f"{max_length}")
        type_, correspondence = values[_TYPE_AT], values[_CORRESPONDENCE_AT]
        if type_ not in _TYPES:
            self.error(line, "type", f'"{type_}" is not a contact type; use company or person')
        if correspondence not in _CORRESPONDENCE_TYPES:
            self.error(line, "correspondence_type", f'"{correspondence}" is not a correspondence '
                       "type; use hard_copy, email or leave it blank")
        email = values[_EMAIL_AT]
        if email and not _EMAIL.match(email):
            self.error(line, "email", f'"{email}" is not an e-mail address')
        language, salesperson = values[_LANGUAGE], values[_SALESPERSON]
        if language and language not in self.languages:
            self.error(line, "language_code", f"Language {language} does not exist.")
        if salesperson and salesperson not in self.salespeople:
            self.error(line, "salesperson_code", f"Salesperson {salesperson} does not exist.")
        no, company_no = values[_NO], values[_COMPANY_NO]
        is_company = type_ == _COMPANY
        if is_company and company_no and company_no != no:
            self.error(line, "company_no", "A company's company_no is its own number; leave it "
                       "blank.")
        if type_ == _PERSON and company_no:
            if company_no == no:
                self.error(line, "company_no", "A person cannot be its own company.")
            self.company_refs.setdefault(company_no, []).append(line)
        if no:
            if not self.manual_nos_allowed:
                self.error(line, "no", f"Number series {self.ms.contact_nos} does not allow "
                           "manual numbers; leave no blank.")
            first = self.line_of_no.setdefault(no, line)
            if first != line:
                self.error(line, "no", f"Contact {no} is also on line {first}.")
            elif is_company:
                self.company_lines[no] = line
            else:
                self.file_persons.add(no)
        if len(self.errors) > first_error:
            return
        if not no:
            self.unnumbered.append(line)
        elif is_company:
            self.finish(values, no)
            self.companies[no] = (values[_NAME], *(values[i] for i in self.inherited))

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
        from_db: list[str] = []
        for company_no in self.company_refs:
            line = self.company_lines.get(company_no)
            if line is not None:
                if line in self.bad_lines:
                    self._ref_error(company_no, f"Company {company_no} on line {line} has errors.")
            elif company_no in self.file_persons:
                line = self.line_of_no[company_no]
                self._ref_error(company_no, f"Contact {company_no} on line {line} is a person, "
                                "not a company.")
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
                self._ref_error(company_no, f"Company contact {company_no} does not exist.")
            elif found[company_no][0] != _COMPANY:
                self._ref_error(company_no, f"Contact {company_no} is a person, not a company.")
            else:
                self.companies[company_no] = found[company_no][1]

    def _ref_error(self, company_no: str, reason: str) -> None:
        for line in self.company_refs[company_no]:
            self.error(line, "company_no", reason)

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

    def finish(self, values: list[Any], no: str) -> list[Any]:
        """Complete the values in place with the defaults `create_contact` applies."""
        values[_NO] = no
        if values[_TYPE_AT] == _COMPANY:
            values[_COMPANY_NO] = no
            values[_COMPANY_NAME] = values[_NAME]
        else:
            values[_LOOKUP] = no
            company = self.companies.get(values[_COMPANY_NO]) if values[_COMPANY_NO] else None
            if company is not None:
                values[_COMPANY_NAME] = company[0]
                for at, value in zip(self.inherited, company[1:], strict=True):
                    if not values[at]:
                        values[at] = value
        if not values[_SEARCH_NAME]:
            values[_SEARCH_NAME] = values[_NAME].upper()[: MAX_LENGTHS["search_name"]]
        for at, value in self.defaults:
            if not values[at]:
                values[at] = value
        if values[_MINOR] or values[_CONSENT]:
            values[_BLOCKED] = True
        return values

    def prepared(self, records: Iterable[tuple[int, list[str]]] | None) -> Iterator[list[Any]]:
        """The values to insert: those kept while checking, or a second reading of the rows."""
        bad_lines, drawn = self.bad_lines, self.drawn
        source: Iterable[tuple[int, list[Any]]]
        if records is None:
            assert self.kept is not None
            source = self.kept
        else:
            source = ((line, self.values(row)) for line, row in records)
        for line, values in source:
            if line in bad_lines:
                continue
            no = values[_NO] or drawn.get(line)
            if no:  # else numbers were not drawn: the import does not happen
                yield self.finish(values, no)


def _column_names(header: list[str]) -> list[str]:
    return [h.removeprefix("\ufeff").strip().lower() for h in header]


def _chunks(values: Iterable[str], size: int = _CHUNK) -> Iterator[list[str]]:
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
    records: list[tuple[int, list[str]]] = []
    for line, raw in enumerate(dicts, start=2):
        cells = [raw.get(k, "") for k in header]
        extra = raw.get(None) or []  # type: ignore[call-overload]
        row = [c for c in cells if c is not None] + list(extra)
        records.append((line, row))
        validator.check(line, row)
    validator.check_database()
    validator.draw_numbers(skip_invalid=True)
    return [dict(zip(INSERT_COLUMNS, v, strict=True)) for v in validator.prepared(records)], validator.errors


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


def _decoded(f: IO[Any]) -> Iterator[str]:
    """The lines of the stream as text; bytes are decoded line by line to name a bad line."""
    if not isinstance(f.read(0), bytes):
        yield from f
        return
    for number, raw in enumerate(f, start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Invalid(
                f"line {number}: the file is not UTF-8 (byte {exc.start + 1} of the line); save it "
                "as UTF-8 and import it again.",
                field="file",
            ) from exc


def _records(f: IO[Any], validator: _Validator | None) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of each data row that is not blank; checks the header when given a validator."""
    reader = csv.reader(_decoded(f))
    line = 1
    header: list[str] | None = None
    try:
        for row in reader:
            if header is None:
                header = _column_names(row)
                if not header:
                    break
                if validator is not None:
                    validator.set_header(header, line)
            elif any(row):
                yield line, row
            line = reader.line_num + 1
    except csv.Error as exc:
        raise Invalid(f"line {line}: the file is not valid CSV ({exc}).", field="file") from exc
    if not header and validator is not None:
        validator.error(1, "file", "line 1 must be the header: a row of field names")


def import_contacts(
    session: Session,
    path_or_file: str | os.PathLike[str] | IO[Any],
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import contacts from a CSV file; nothing when a row is bad unless `skip_invalid`."""
    validator = _Validator(session)
    with _open_csv(path_or_file) as f:
        start = f.tell()
        for line, row in _records(f, validator):
            validator.check(line, row)
        validator.check_database()
        if not validator.fatal and (skip_invalid or not validator.errors):
            validator.draw_numbers(skip_invalid)
        if validator.fatal or (validator.errors and not skip_invalid):
            return ImportResult(0, validator.rows, validator.errors)
        if validator.kept is not None:
            rows = validator.prepared(None)
        else:
            f.seek(start)
            rows = validator.prepared(_records(f, None))
        session.flush()
        if dialect_name(session) == "postgresql":
            imported = _copy_rows(session, rows, progress)
        else:
            imported = _insert_rows(session, rows, progress, expected=validator.rows - len(validator.bad_lines))
    skipped = validator.rows - imported
    return ImportResult(imported, skipped, validator.errors)


def _insert_rows(
    session: Session, rows: Iterator[list[Any]], progress: Progress | None, expected: int = 0
) -> int:
    connection = session.connection()
    existing = int(connection.execute(select(func.count()).select_from(_TABLE)).scalar_one())
    # A large file into a small table: build the secondary indexes once at the end instead of
    # maintaining them row by row (same transaction: SQLite's DDL is transactional).
    rebuild = expected >= REBUILD_INDEXES_FROM and expected > existing
    if rebuild:  # an error rolls the drops back with everything else
        for index in _TABLE.indexes:
            index.drop(connection)
    done = _insert_batches(connection, rows, progress)
    if rebuild:
        for index in _TABLE.indexes:
            index.create(connection)
    return done


def _insert_batches(connection: Any, rows: Iterator[list[Any]], progress: Progress | None) -> int:
    # The Core statement compiled once, run as the driver's executemany of positional rows: the
    # per-row parameter processing of Session.execute would cost more than the insert itself.
    compiled = insert(_TABLE).compile(dialect=connection.dialect, column_keys=list(INSERT_COLUMNS))
    assert compiled.positiontup == list(INSERT_COLUMNS)
    sql = str(compiled)
    done = 0
    while batch := list(islice(rows, BATCH_SIZE)):
        connection.exec_driver_sql(sql, [tuple(v) for v in batch])
        done += len(batch)
        if progress is not None:
            progress(done)
    return done


def _copy_rows(session: Session, rows: Iterator[list[Any]], progress: Progress | None) -> int:
    driver = session.connection().connection.driver_connection
    assert driver is not None
    sql = f"COPY {_TABLE.name} ({', '.join(INSERT_COLUMNS)}) FROM STDIN"
    done = 0
    with driver.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
            done += 1
            if progress is not None and done % BATCH_SIZE == 0:
                progress(done)
    if progress is not None and done % BATCH_SIZE:
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
