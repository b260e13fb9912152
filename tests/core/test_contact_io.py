"""Importing contacts from CSV and exporting them, on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from rapport.core import contact_io, setup
from rapport.core.contact_io import CSV_FIELDS, EXPORT_FIELDS, import_contacts
from rapport.core.contacts import Contact, ContactCreate, create_contact
from rapport.core.masterdata import Language, Salesperson
from rapport.db import make_sessionmaker
from rapport.errors import Invalid
from tests.conftest import clean_database

HEADER = "no,type,name,company_no,address,city,email,language_code,salesperson_code,minor"


def write(tmp_path: Path, text: str, name: str = "contacts.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def master_data(session: Session) -> None:
    session.add_all([Language(code="DE", name="German"), Language(code="FR", name="French")])
    session.add_all([Salesperson(code="ANNA", name="Anna"), Salesperson(code="BEN", name="Ben")])
    session.flush()


def contacts_by_no(session: Session) -> dict[str, dict[str, Any]]:
    columns = Contact.__table__.columns
    return {
        row.no: dict(row._mapping)
        for row in session.execute(select(*columns).order_by(Contact.no))
    }


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Contact)) or 0


def test_a_valid_file_imports_companies_and_persons_with_the_defaults_of_create_contact(
    session: Session, tmp_path: Path
) -> None:
    master_data(session)
    ms = setup.get_marketing_setup(session)
    ms.default_correspondence_type = "email"
    ms.default_language_code = "FR"
    ms.default_country_code = "BE"
    ms.inherit_communication_details = False
    path = write(
        tmp_path,
        "no,type,name,company_no,address,city,phone_no,salesperson_code,language_code,minor,"
        "search_name\n"
        # a person before its company: the company may come later in the file
        "p1,person,Jane Doe,c1,,,,,,yes,\n"
        "C1,company,Acme Ltd,,1 Main St,Gent,+32 9 1,anna,de,false,ACME\n"
        "P2,Person,John Roe,C1,9 Side St,,,,,0,\n"
        "P3,person,Solo Person,,,,,,,,\n",
    )
    result = import_contacts(session, path)
    assert (result.imported, result.skipped, result.errors) == (4, 0, [])
    got = contacts_by_no(session)
    company, jane, john, solo = got["C1"], got["P1"], got["P2"], got["P3"]
    assert (company["company_no"], company["company_name"], company["lookup_contact_no"]) == (
        "C1", "Acme Ltd", "",
    )
    assert (company["search_name"], company["salesperson_code"], company["language_code"]) == (
        "ACME", "ANNA", "DE",
    )
    assert (company["country_code"], company["correspondence_type"]) == ("BE", "email")
    assert (jane["type"], jane["company_no"], jane["company_name"], jane["lookup_contact_no"]) == (
        "person", "C1", "Acme Ltd", "P1",
    )
    # inherited from the company (blank cells), not the communication details (flag off)
    assert (jane["address"], jane["city"], jane["country_code"]) == ("1 Main St", "Gent", "BE")
    assert (jane["salesperson_code"], jane["language_code"], jane["phone_no"]) == ("ANNA", "DE", "")
    assert jane["search_name"] == "JANE DOE"
    assert jane["minor"] is True and jane["privacy_blocked"] is True
    # a given cell wins over the company's value
    assert (john["address"], john["city"]) == ("9 Side St", "Gent")
    assert john["privacy_blocked"] is False
    # a person without company gets Marketing Setup's defaults only
    assert (solo["company_no"], solo["company_name"], solo["address"]) == ("", "", "")
    assert (solo["language_code"], solo["country_code"], solo["correspondence_type"]) == (
        "FR", "BE", "email",
    )


def test_a_file_imports_like_create_contact_does_one_by_one(
    session: Session, tmp_path: Path
) -> None:
    master_data(session)
    ms = setup.get_marketing_setup(session)
    ms.default_salesperson_code = "BEN"
    rows = [
        {"no": "C9", "type": "company", "name": "Globex", "address": "Road 1", "city": "Lyon",
         "phone_no": "+33 1", "language_code": "FR"},
        {"no": "P9", "type": "person", "name": "Hank", "company_no": "C9", "email": "h@globex.fr",
         "parental_consent_received": "true"},
    ]
    path = write(tmp_path, ",".join(CSV_FIELDS) + "\n" + "".join(
        ",".join(r.get(f, "") for f in CSV_FIELDS) + "\n" for r in rows
    ))
    assert import_contacts(session, path).imported == 2
    imported = contacts_by_no(session)
    session.rollback()
    master_data(session)
    setup.get_marketing_setup(session).default_salesperson_code = "BEN"
    for r in rows:
        given = {k: v for k, v in r.items() if v}
        if "parental_consent_received" in given:
            given["parental_consent_received"] = True  # type: ignore[assignment]
        create_contact(session, ContactCreate(**given))
    assert contacts_by_no(session) == imported


def test_every_kind_of_bad_row_is_reported_with_its_line_and_nothing_is_saved(
    session: Session, tmp_path: Path
) -> None:
    master_data(session)
    session.add(Contact(no="OLD", type="company", name="Old", company_no="OLD", company_name="Old"))
    session.add(Contact(no="OLDP", type="person", name="Old P", lookup_contact_no="OLDP"))
    setup.create_number_series(session, setup.NumberSeriesCreate(code="CONT", starting_no="CT001"))
    setup.get_marketing_setup(session).contact_nos = "CONT"
    session.flush()
    long_name = "x" * 101
    path = write(
        tmp_path,
        f"{HEADER}\n"
        "C1,company,Good Company,,,,,,,\n"  # 2: good
        "C2,firm,Bad Type,,,,,,,\n"  # 3
        f"C3,company,{long_name},,,,,,,\n"  # 4
        "C4,company,Bad Mail,,,,not-an-address,,,\n"  # 5
        "C5,company,Bad Language,,,,,XX,,\n"  # 6
        "C6,company,Bad Salesperson,,,,,,NOBODY,\n"  # 7
        "C7,company,Bad Boolean,,,,,,,maybe\n"  # 8
        "C1,company,Duplicate,,,,,,,\n"  # 9
        "OLD,company,Already There,,,,,,,\n"  # 10
        "P1,person,No Such Company,NOPE,,,,,,\n"  # 11
        "P2,person,Company Is A Person,OLDP,,,,,,\n"  # 12
        "P3,person,Company Is A Person In The File,P1,,,,,,\n"  # 13
        "C8,company,Own Company No,C1,,,,,,\n"  # 14
        "C9,company,Too Many,,,,,,,,extra\n"  # 15
        '"P4",person,"Multi\nLine",C2,,,,,,\n'  # 16-17: its company C2 is bad
        "P5,person,Its Own Company,P5,,,,,,\n"  # 18
        ",company,Good Unnumbered,,,,,,,\n",  # 19: good
    )
    before = session.get(setup.NumberSeries, "CONT")
    assert before is not None and before.last_no_used == ""
    result = import_contacts(session, path)
    assert result.imported == 0
    assert {(e.line, e.field) for e in result.errors} == {
        (3, "type"),
        (4, "name"),
        (5, "email"),
        (6, "language_code"),
        (7, "salesperson_code"),
        (8, "minor"),
        (9, "no"),
        (10, "no"),
        (11, "company_no"),
        (12, "company_no"),
        (13, "company_no"),
        (14, "company_no"),
        (15, ""),
        (16, "company_no"),
        (18, "company_no"),
    }
    assert [e.line for e in result.errors] == sorted(e.line for e in result.errors)
    reasons = {e.line: e.reason for e in result.errors}
    assert "line 2" in reasons[9] and "already exists" in reasons[10]
    assert "does not exist" in reasons[11] and "person" in reasons[12] and "line 11" in reasons[13]
    assert "line 3" in reasons[16]
    assert count(session) == 2
    assert session.get(setup.NumberSeries, "CONT").last_no_used == ""  # type: ignore[union-attr]


def test_an_unknown_or_repeated_column_is_an_error_of_the_header_even_when_skipping(
    session: Session, tmp_path: Path
) -> None:
    path = write(tmp_path, "no,name,colour,name,company_name\nC1,Acme,red,Acme,ignored\n")
    result = import_contacts(session, path, skip_invalid=True)
    assert result.imported == 0
    assert {(e.line, e.field) for e in result.errors} == {(1, "colour"), (1, "name")}
    assert count(session) == 0


@pytest.mark.parametrize("text", ["", "\nno,name\nC1,Acme\n"])
def test_a_file_without_a_header_on_line_1_is_refused(session: Session, tmp_path: Path, text: str) -> None:
    result = import_contacts(session, write(tmp_path, text), skip_invalid=True)
    assert (result.imported, [(e.line, e.field) for e in result.errors]) == (0, [(1, "file")])
    assert count(session) == 0


def test_skip_invalid_imports_the_good_rows_and_skips_the_bad_and_their_persons(
    session: Session, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "no,type,name,company_no,email\n"
        "C1,company,Good,,info@good.example\n"
        "C2,company,Bad,,@bad\n"
        "P1,person,Of Good,C1,\n"
        "P2,person,Of Bad,C2,\n",
    )
    result = import_contacts(session, path, skip_invalid=True)
    assert (result.imported, result.skipped) == (2, 2)
    assert [(e.line, e.field) for e in result.errors] == [(3, "email"), (5, "company_no")]
    assert sorted(contacts_by_no(session)) == ["C1", "P1"]


def test_rows_without_a_number_draw_theirs_from_the_contact_number_series(
    session: Session, tmp_path: Path
) -> None:
    setup.create_number_series(
        session, setup.NumberSeriesCreate(code="CONT", starting_no="CT0001", last_no_used="CT0007", increment_by=2)
    )
    setup.get_marketing_setup(session).contact_nos = "CONT"
    session.add(Contact(no="CT0011", name="Taken"))
    path = write(tmp_path, "no,name\n,First\nCT0009,Given\n,Second\n,Third\n")
    series = session.get(setup.NumberSeries, "CONT")
    assert series is not None
    refused = import_contacts(session, path)
    assert (refused.imported, series.last_no_used, count(session)) == (0, "CT0007", 1)
    result = import_contacts(session, path, skip_invalid=True)
    # CT0009 is the next number but is given in the file; CT0011 is already in the database
    assert (result.imported, result.skipped) == (2, 2)
    assert [(e.line, e.field) for e in result.errors] == [(2, "no"), (4, "no")]
    assert "behind" in result.errors[0].reason
    names = {c["name"]: no for no, c in contacts_by_no(session).items()}
    assert names == {"Taken": "CT0011", "Given": "CT0009", "Third": "CT0013"}
    assert series.last_no_used == "CT0013"


def test_a_number_series_that_runs_out_reports_the_rows_beyond_its_ending_number(
    session: Session, tmp_path: Path
) -> None:
    setup.create_number_series(
        session, setup.NumberSeriesCreate(code="CONT", starting_no="N1", ending_no="N2")
    )
    setup.get_marketing_setup(session).contact_nos = "CONT"
    path = write(tmp_path, "name\nA\nB\nC\n")
    result = import_contacts(session, path, skip_invalid=True)
    assert result.imported == 2
    assert [(e.line, e.field) for e in result.errors] == [(4, "no")]
    assert "exhausted" in result.errors[0].reason
    assert sorted(contacts_by_no(session)) == ["N1", "N2"]


def test_rows_without_a_number_need_a_contact_number_series(session: Session, tmp_path: Path) -> None:
    result = import_contacts(session, write(tmp_path, "name\nA\n"))
    assert result.imported == 0
    assert [(e.line, e.field) for e in result.errors] == [(2, "no")]
    assert "contact_nos" in result.errors[0].reason


def test_a_person_may_belong_to_a_company_already_in_the_database(
    session: Session, tmp_path: Path
) -> None:
    master_data(session)
    create_contact(session, ContactCreate(no="C1", name="Acme", city="Gent", salesperson_code="ANNA"))
    result = import_contacts(session, write(tmp_path, "no,type,name,company_no\nP1,person,Jo,c1\n"))
    assert result.errors == []
    person = contacts_by_no(session)["P1"]
    assert (person["company_name"], person["city"], person["salesperson_code"]) == ("Acme", "Gent", "ANNA")


class Pipe(io.BytesIO):
    """A stream that cannot seek, like standard input."""

    def seekable(self) -> bool:
        return False


def test_a_bom_a_binary_stream_a_text_stream_and_a_pipe_are_all_read(session: Session) -> None:
    data = "\ufeffno,name\nB1,Binary\n".encode()
    assert import_contacts(session, io.BytesIO(data)).imported == 1
    assert import_contacts(session, io.StringIO("\ufeffno,name\nT1,Text\n")).imported == 1
    assert import_contacts(session, Pipe(b"no,name\r\nS1,Piped\r\n")).imported == 1
    assert sorted(contacts_by_no(session)) == ["B1", "S1", "T1"]


def test_a_file_that_is_not_utf8_is_refused_with_its_line(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("no,name\nC1,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(Invalid, match="UTF-8"):
        import_contacts(session, path)
    assert count(session) == 0


def test_validate_rows_checks_dict_rows_and_returns_them_ready_to_insert(session: Session) -> None:
    rows = [
        {"no": "c1", "name": "Acme", "type": "company"},
        {"no": "P1", "name": "Jo", "type": "person", "company_no": "C1"},
        {"no": "P2", "name": "Bad", "type": "person", "correspondence_type": "fax"},
    ]
    valid, errors = contact_io.validate_rows(session, rows)
    assert [(e.line, e.field) for e in errors] == [(4, "correspondence_type")]
    assert [(r["no"], r["company_name"], r["lookup_contact_no"]) for r in valid] == [
        ("C1", "Acme", ""),
        ("P1", "Acme", "P1"),
    ]
    assert count(session) == 0


def test_export_writes_a_header_and_each_contact_by_number_with_booleans_as_words(
    session: Session,
) -> None:
    create_contact(session, ContactCreate(no="B", name="Beta"))
    create_contact(session, ContactCreate(no="A", name="Alpha, Inc.", minor=True))
    create_contact(session, ContactCreate(no="P", type="person", name="Pat", company_no="A"))
    out = io.StringIO()
    assert contact_io.export_contacts(session, out) == 3
    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(EXPORT_FIELDS)
    assert [line.split(",")[0] for line in lines[1:]] == ["A", "B", "P"]
    assert lines[1].startswith('A,company,"Alpha, Inc.",A,"Alpha, Inc.",')
    assert lines[1].endswith(",false,true,true,false")
    out = io.StringIO()
    assert contact_io.export_contacts(session, out, {"type": "person"}) == 1
    assert out.getvalue().splitlines()[1].startswith("P,person,Pat,A,\"Alpha, Inc.\",PAT,")


def test_export_then_import_into_an_empty_database_gives_the_same_contacts(
    db_engine: Engine, tmp_path: Path
) -> None:
    factory = make_sessionmaker(db_engine)
    with factory() as session:
        master_data(session)
        ms = setup.get_marketing_setup(session)
        ms.default_correspondence_type = "hard_copy"
        create_contact(session, ContactCreate(
            no="C1", name="Acme \"Quoted\", Ltd", address="Line, with comma", city="Gent",
            email="info@acme.example", language_code="DE", salesperson_code="ANNA",
        ))
        create_contact(session, ContactCreate(no="C2", name="Ünïcødé GmbH", address_2="Hof\n2"))
        create_contact(session, ContactCreate(
            no="P1", type="person", name="Jo", company_no="C1", job_title="Buyer", minor=True,
            exclude_from_segment=True,
        ))
        create_contact(session, ContactCreate(no="P2", type="person", name="Solo", search_name="S"))
        session.commit()
        before = contacts_by_no(session)
        path = tmp_path / "export.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            assert contact_io.export_contacts(session, f) == 4
    clean_database(db_engine)
    with factory() as session:
        master_data(session)
        result = import_contacts(session, path)
        assert (result.imported, result.errors) == (4, [])
        session.commit()
        assert contacts_by_no(session) == before


def test_progress_is_reported_as_rows_are_inserted(session: Session, tmp_path: Path) -> None:
    lines = "".join(f"C{i},Company {i}\n" for i in range(25_000))
    seen: list[int] = []
    result = import_contacts(session, write(tmp_path, "no,name\n" + lines), progress=seen.append)
    assert result.imported == 25_000
    assert seen[-1] == 25_000 and seen == sorted(seen) and len(seen) >= 2


def test_a_file_larger_than_what_is_kept_in_memory_is_read_again_for_the_insert(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contact_io, "KEEP_ROWS", 2)
    path = write(
        tmp_path,
        "no,type,name,company_no,email\n"
        "C1,company,Good,,info@good.example\n"
        "C2,company,Bad,,@bad\n"
        "P1,person,Of Good,C1,\n"
        "P2,person,Of Bad,C2,\n",
    )
    result = import_contacts(session, path, skip_invalid=True)
    assert (result.imported, result.skipped) == (2, 2)
    people = contacts_by_no(session)
    assert sorted(people) == ["C1", "P1"]
    assert people["P1"]["company_name"] == "Good"


def test_a_large_import_into_a_small_table_rebuilds_the_indexes_it_dropped(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    from sqlalchemy import inspect

    monkeypatch.setattr(contact_io, "REBUILD_INDEXES_FROM", 1)
    path = write(tmp_path, "no,type,name,company_no\nC1,company,Acme,\nP1,person,Jo,C1\n")
    result = import_contacts(session, path)
    assert result.imported == 2
    session.commit()
    names = {i["name"] for i in inspect(session.get_bind()).get_indexes("contact")}
    assert {i.name for i in Contact.__table__.indexes} <= names
    assert session.scalar(select(Contact.company_name).where(Contact.no == "P1")) == "Acme"


def test_each_bad_row_is_reported_with_these_reasons_in_the_order_of_its_checks(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # batches of two rows: the checks of a line and those across rows span several batches
    monkeypatch.setattr(contact_io, "BATCH_SIZE", 2)
    master_data(session)
    path = write(
        tmp_path,
        "no,type,name,company_no,email,correspondence_type,language_code,salesperson_code,minor\n"
        "C1,company,Good,,,,,,\n"  # 2
        f"C1,firm,{'x' * 101},C9,@bad,fax,xx,nobody,maybe\n"  # 3: every check of a row fails
        "P1,person,Self,P1,,,,,\n"  # 4
        "C2,company,Too Few\n"  # 5
        "P2,person,Of Good,C1,,,,,\n",  # 6: good
    )
    result = import_contacts(session, path)
    assert result.imported == 0
    assert [tuple(e) for e in result.errors] == [
        (3, "minor", '"maybe" is not a boolean; use true or false'),
        (3, "name", "101 characters is too long; at most 100"),
        (3, "type", '"firm" is not a contact type; use company or person'),
        (3, "correspondence_type", '"fax" is not a correspondence type; use hard_copy, email or leave it blank'),
        (3, "email", '"@bad" is not an e-mail address'),
        (3, "language_code", "Language XX does not exist."),
        (3, "salesperson_code", "Salesperson NOBODY does not exist."),
        (3, "no", "Contact C1 is also on line 2."),
        (4, "company_no", "A person cannot be its own company."),
        (4, "company_no", "Contact P1 on line 4 is a person, not a company."),
        (5, "", "the row has 3 values, fewer than the 9 columns of the header"),
    ]
    assert count(session) == 0


def test_a_company_s_own_company_no_and_manual_numbers_a_series_refuses_are_reported(
    session: Session, tmp_path: Path
) -> None:
    setup.create_number_series(session, setup.NumberSeriesCreate(code="CONT", starting_no="C1", manual_nos=False))
    setup.get_marketing_setup(session).contact_nos = "CONT"
    result = import_contacts(session, write(tmp_path, "no,name,company_no\nX1,Acme,X2\n,Fine,\n"), skip_invalid=True)
    assert [tuple(e) for e in result.errors] == [
        (2, "company_no", "A company's company_no is its own number; leave it blank."),
        (2, "no", "Number series CONT does not allow manual numbers; leave no blank."),
    ]
    assert (result.imported, sorted(contacts_by_no(session))) == (1, ["C1"])


def test_a_large_file_with_a_short_row_is_read_again_and_skips_that_row(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contact_io, "KEEP_ROWS", 2)
    path = write(tmp_path, "no,type,name,company_no\nC1,company,Good,\nC2,company\nP1,person,Jo,C1\nC3,company,More,\n")
    result = import_contacts(session, path, skip_invalid=True)
    assert (result.imported, result.skipped) == (3, 1)
    assert [(e.line, e.field) for e in result.errors] == [(3, "")]
    assert sorted(contacts_by_no(session)) == ["C1", "C3", "P1"]
    assert contacts_by_no(session)["P1"]["company_name"] == "Good"


def test_a_bad_byte_far_into_a_file_is_reported_with_its_line_and_byte(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    lines = [f"C{i},Company {i}\n".encode() for i in range(5000)]
    lines[3000] = b"C3000,Caf\xe9\n"  # line 3002 of the file, after the header
    path.write_bytes(b"no,name\n" + b"".join(lines))
    with pytest.raises(Invalid, match=r"^line 3002: the file is not UTF-8 \(byte 10 of the line\)"):
        import_contacts(session, path)
    assert count(session) == 0


def test_a_carriage_return_alone_does_not_end_a_line_of_a_binary_file(session: Session) -> None:
    result = import_contacts(session, io.BytesIO(b'no,name\nC1,"Two\rLines"\nC2,Next\n'))
    assert (result.imported, result.errors) == (2, [])
    assert contacts_by_no(session)["C1"]["name"] == "Two\rLines"


def test_the_import_leaves_the_connection_s_page_cache_as_it_found_it(
    session: Session, tmp_path: Path, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("a SQLite setting")
    before = session.connection().exec_driver_sql("PRAGMA cache_size").scalar_one()
    lines = "".join(f"C{i},Company {i}\n" for i in range(250))
    assert import_contacts(session, write(tmp_path, "no,name\n" + lines)).imported == 250
    assert session.connection().exec_driver_sql("PRAGMA cache_size").scalar_one() == before


def test_the_cycle_collector_is_as_the_import_found_it_whether_it_imports_or_fails(
    session: Session, tmp_path: Path
) -> None:
    good = write(tmp_path, "no,name\nC1,Acme\n", "good.csv")
    not_utf8 = tmp_path / "latin1.csv"
    not_utf8.write_bytes("no,name\nC2,Caf\xe9\n".encode("latin-1"))
    was_enabled = gc.isenabled()
    try:
        gc.enable()
        assert import_contacts(session, good).imported == 1
        assert gc.isenabled()
        with pytest.raises(Invalid, match="UTF-8"):
            import_contacts(session, not_utf8)
        assert gc.isenabled()
        gc.disable()
        assert import_contacts(session, write(tmp_path, "no,name\nC3,Beta\n", "more.csv")).imported == 1
        assert not gc.isenabled()
    finally:
        if was_enabled:
            gc.enable()


@pytest.mark.parametrize(
    "cells",
    [
        ("C1", "ab", "x1", ""),  # nothing to change: the cells are returned as they are
        (" c1", "AB\t", "\u00a0x\u2028", "\x1cY\x1f"),  # whitespace of every kind at either end
        ("Stra\u00dfe", "\u03a3\u03a3", "\u0130x", "\ufb03"),  # longer upper/lower case; capital sigma
        ("ok", "\u03c3", "OK", "a b"),  # an inner space, kept
    ],
)
def test_cells_are_stripped_and_cased_as_one_by_one(cells: tuple[str, ...]) -> None:
    assert contact_io._stripped(cells) == tuple(map(str.strip, cells))
    for method in (str.upper, str.lower):
        assert contact_io._mapped(method, cells) == tuple(map(method, cells))
        assert contact_io._mapped(method, tuple(map(method, cells))) == tuple(map(method, map(method, cells)))


def test_values_alike_in_a_whole_batch_are_stored_as_those_bound_row_by_row(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    # batches of two rows: in the first, minor is true and city blank in both rows (written into
    # the statement on SQLite); in the second, they differ from row to row (bound)
    monkeypatch.setattr(contact_io, "BATCH_SIZE", 2)
    path = write(
        tmp_path,
        "no,name,city,minor,privacy_blocked\n"
        "C1,One,,true,false\n"
        "C2,Two,,yes,false\n"
        "C3,Three,Gent,false,true\n"
        "C4,Four,,true,false\n"
        "C5,Five,Bern,,\n",
    )
    assert import_contacts(session, path).imported == 5
    got = {no: (c["city"], c["minor"], c["privacy_blocked"]) for no, c in contacts_by_no(session).items()}
    assert got == {
        "C1": ("", True, True), "C2": ("", True, True), "C3": ("Gent", False, True),
        "C4": ("", True, True), "C5": ("Bern", False, False),
    }
    if backend == "sqlite":  # booleans as SQLAlchemy stores them: the integers 0 and 1
        stored = session.connection().exec_driver_sql(
            "SELECT typeof(minor), minor, typeof(city) FROM contact WHERE no IN ('C1', 'C3')"
        ).all()
        assert sorted(stored) == [("integer", 0, "text"), ("integer", 1, "text")]
