"""`rapport contacts import` and `rapport contacts export`, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from rapport.core.contacts import Contact
from rapport.db import make_sessionmaker
from tests.cli.conftest import CliRunnerCall


def contact_nos(engine: Engine) -> list[str]:
    with make_sessionmaker(engine)() as session:
        return list(session.scalars(select(Contact.no).order_by(Contact.no)))


GOOD_AND_BAD = (
    "no,type,name,company_no,email\n"
    "C1,company,Acme,,info@acme.example\n"
    "C2,company,Broken,,not-mail\n"
    "P1,person,Jo,C1,\n"
    "P2,person,Kim,NOPE,\n"
)


def test_import_prints_each_bad_row_and_exits_1_without_importing_anything(
    run: CliRunnerCall, db_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    result = run("contacts", "import", str(path))
    assert result.exit_code == 1
    assert "line 3: email: " in result.stderr
    assert "line 5: company_no: Company contact NOPE does not exist." in result.stderr
    assert "--skip-invalid" in result.stderr
    assert contact_nos(db_engine) == []


def test_import_with_skip_invalid_imports_the_good_rows_and_says_how_many(
    run: CliRunnerCall, db_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    result = run("contacts", "import", str(path), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "line 3: email: " in result.stderr
    assert "Imported 2 contacts (2 skipped)." in result.stdout
    assert contact_nos(db_engine) == ["C1", "P1"]


def test_export_writes_csv_to_standard_output_or_to_a_file_that_imports_back(
    run: CliRunnerCall, db_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("no,type,name,company_no\nC1,company,Acme,\nP1,person,Jo,C1\n", encoding="utf-8")
    assert run("contacts", "import", str(path)).exit_code == 0
    result = run("contacts", "export")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("no,type,name,company_no,company_name,search_name,")
    assert [line.split(",")[:5] for line in lines[1:]] == [
        ["C1", "company", "Acme", "C1", "Acme"],
        ["P1", "person", "Jo", "C1", "Acme"],
    ]
    out = tmp_path / "out.csv"
    result = run("contacts", "export", "--output", str(out), "--filter", "type=person")
    assert result.exit_code == 0, result.output
    assert "Exported 1 contacts" in result.stderr
    assert out.read_text(encoding="utf-8").splitlines()[1:] == [lines[2]]


def test_an_unreadable_file_or_a_bad_filter_is_a_clear_error(
    run: CliRunnerCall, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("no,name\nC1,Caf\xe9\n".encode("latin-1"))
    result = run("contacts", "import", str(path))
    assert result.exit_code == 1
    assert "line 2: the file is not UTF-8" in result.stderr
    result = run("contacts", "export", "--filter", "colour=red")
    assert result.exit_code == 1
    assert "colour" in result.stderr
