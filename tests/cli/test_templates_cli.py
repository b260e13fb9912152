"""`rapport templates export/import` and `rapport interactions delete-canceled`."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import Engine, func, select

from rapport.core import templates
from rapport.core.interactions.models import InteractionLogEntry
from rapport.core.templates import InteractionGroupCreate, InteractionTemplateCreate, TemplateLanguageCreate
from rapport.db import make_sessionmaker
from tests.cli.conftest import CliRunnerCall
from tests.conftest import clean_database


def docx() -> bytes:
    buffer = io.BytesIO()
    fixed = (2026, 1, 1, 0, 0, 0)  # the same bytes on every call
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(zipfile.ZipInfo("[Content_Types].xml", fixed), "<Types/>")
        z.writestr(
            zipfile.ZipInfo("word/document.xml", fixed),
            '<w:document><w:fldSimple w:instr=" MERGEFIELD Contact_Name "/></w:document>',
        )
    return buffer.getvalue()


def seed(engine: Engine) -> None:
    with make_sessionmaker(engine)() as s:
        from rapport.core.masterdata import Language, create_record

        create_record(s, Language, "Language", {"code": "ENU", "name": "English"})
        templates.create_group(s, InteractionGroupCreate(code="LETTER", description="Letters"))
        templates.create_template(
            s,
            InteractionTemplateCreate(
                code="BUS", interaction_group_code="LETTER", description="Business letter", unit_cost=2
            ),
        )
        templates.create_template_language(s, "BUS", TemplateLanguageCreate(language_code="ENU", subject="Hello"))
        templates.set_language_attachment(s, "BUS", "ENU", "letter.docx", "", docx())
        s.commit()


def test_templates_export_then_import_into_an_empty_database_restores_them(
    run: CliRunnerCall, db_engine: Engine, tmp_path: Path
) -> None:
    seed(db_engine)
    out = tmp_path / "templates.json"
    result = run("templates", "export", "--output", str(out))
    assert result.exit_code == 0, result.output
    exported = json.loads(out.read_text())
    assert [t["code"] for t in exported["interaction_templates"]] == ["BUS"]

    clean_database(db_engine)
    with make_sessionmaker(db_engine)() as s:
        from rapport.core.masterdata import Language, create_record

        create_record(s, Language, "Language", {"code": "ENU", "name": "English"})
        s.commit()
    result = run("templates", "import", str(out))
    assert result.exit_code == 0, result.output
    assert "1 templates" in result.output
    with make_sessionmaker(db_engine)() as s:
        template = templates.get_template(s, "BUS")
        assert (template.description, float(template.unit_cost)) == ("Business letter", 2.0)
        row = templates.template_language(s, "BUS", "ENU")
        assert row is not None and row.subject == "Hello"
        from rapport.core.attachments import read_content

        assert row.attachment_no is not None and read_content(s, row.attachment_no) == docx()


def test_templates_import_refuses_a_file_that_is_not_an_export(run: CliRunnerCall, tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    result = run("templates", "import", str(path))
    assert result.exit_code == 1
    assert "not a Rapport template export" in result.output


def test_delete_canceled_removes_only_the_canceled_entries(run: CliRunnerCall, db_engine: Engine) -> None:
    with make_sessionmaker(db_engine)() as s:
        s.add_all(
            [
                InteractionLogEntry(contact_no="C1", canceled=True, description="gone"),
                InteractionLogEntry(contact_no="C2", canceled=True, description="kept: other contact"),
                InteractionLogEntry(contact_no="C1", canceled=False, description="kept: not canceled"),
            ]
        )
        s.commit()
    result = run("interactions", "delete-canceled", "--contact-no", "C1")
    assert result.exit_code == 0, result.output
    assert "1 interaction log entry has been deleted." in result.output
    with make_sessionmaker(db_engine)() as s:
        assert s.scalar(select(func.count()).select_from(InteractionLogEntry)) == 2


def test_segments_log_logs_a_segment_and_reports_what_it_did(run: CliRunnerCall, db_engine: Engine) -> None:
    from rapport.core.contacts import ContactCreate, create_contact
    from rapport.core.masterdata import Salesperson
    from rapport.core.segments import actions, header

    with make_sessionmaker(db_engine)() as s:
        from rapport.core import setup
        from rapport.core.masterdata import create_record

        create_record(s, Salesperson, "Salesperson", {"code": "SP1", "name": "Sam"})
        setup.create_number_series(s, setup.NumberSeriesCreate(code="SEG", starting_no="SEG001"))
        setup.update_marketing_setup(s, setup.MarketingSetupUpdate(segment_nos="SEG"))
        templates.create_group(s, InteractionGroupCreate(code="LETTER"))
        templates.create_template(
            s, InteractionTemplateCreate(code="BUS", interaction_group_code="LETTER", description="Letter")
        )
        for no in ("C1", "C2"):
            create_contact(s, ContactCreate(no=no, name=f"Company {no}", salesperson_code="SP1"))
        header.create_segment(s, header.SegmentCreate(no="S1", description="Mailing", interaction_template_code="BUS"))
        actions.add_contacts(s, "S1", actions.AddContacts(criteria={"contact": {"no": "C*"}}))
        s.commit()
    result = run("segments", "log", "s1", "--follow-up")
    assert result.exit_code == 0, result.output
    assert "2 interactions in logged segment 1, follow-up segment SEG001" in result.output
    with make_sessionmaker(db_engine)() as s:
        assert s.scalar(select(func.count()).select_from(InteractionLogEntry)) == 2
    again = run("segments", "log", "S1")
    assert again.exit_code == 1 and "already logged" in again.output
