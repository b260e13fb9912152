"""Interaction groups, templates, template languages and attachments (domain.md 1.3-1.7, 3.23)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from rapport.core import attachments, setup, templates
from rapport.core.attachments import Attachment
from rapport.core.interactions import InteractionLogEntry
from rapport.core.masterdata import Language
from rapport.core.setup import InteractionTemplateSetupSlot, MarketingSetupUpdate
from rapport.core.templates import (
    InteractionGroupCreate,
    InteractionTemplateCreate,
    InteractionTemplateLanguage,
    InteractionTemplateUpdate,
    TemplateLanguageCreate,
)
from rapport.errors import Conflict, Invalid, NotFound

HTML = b"<html><body>Dear {{name}}</body></html>"

FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # zip entries carry a timestamp: keep the bytes stable


def docx_bytes(field: str = "Contact_Name") -> bytes:
    """A minimal Word document with one MERGEFIELD."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("[Content_Types].xml", FIXED_TIME), "<Types/>")
        archive.writestr(
            zipfile.ZipInfo("word/document.xml", FIXED_TIME),
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p>'
            f'<w:fldSimple w:instr=" MERGEFIELD {field} "><w:r><w:t>«{field}»</w:t></w:r></w:fldSimple>'
            "</w:p></w:body></w:document>",
        )
    return buffer.getvalue()


@pytest.fixture
def base(session: Session) -> Session:
    """A group, two languages and a template LETTER without languages."""
    session.add_all([Language(code="ENU", name="English"), Language(code="FRA", name="French")])
    templates.create_group(session, InteractionGroupCreate(code="g1", description="Letters"))
    templates.create_template(
        session, InteractionTemplateCreate(code="letter", interaction_group_code="G1", description="A letter")
    )
    return session


def add_language(session: Session, language: str, file_name: str | None = None, data: bytes = b"") -> None:
    templates.create_template_language(session, "LETTER", TemplateLanguageCreate(language_code=language))
    if file_name:
        templates.set_language_attachment(session, "LETTER", language, file_name, "", data)


def update(session: Session, **values: object) -> templates.InteractionTemplate:
    return templates.update_template(session, "LETTER", InteractionTemplateUpdate.model_validate(values))


# --- templates -------------------------------------------------------------------------------


def test_a_template_is_stored_with_upper_case_codes_and_bc_defaults(base: Session) -> None:
    template = templates.get_template(base, "letter")
    assert template.code == "LETTER" and template.interaction_group_code == "G1"
    assert template.correspondence_type_default == "email"
    assert template.wizard_action == "" and template.language_code_default == ""
    assert templates.language_codes(base, "LETTER") == []


def test_a_template_needs_an_existing_interaction_group(base: Session) -> None:
    with pytest.raises(Invalid) as info:
        templates.create_template(base, InteractionTemplateCreate(code="X", interaction_group_code="NOPE"))
    assert info.value.field == "interaction_group_code"
    with pytest.raises(ValidationError):
        InteractionTemplateCreate.model_validate({"code": "X"})
    with pytest.raises(Invalid):
        update(base, interaction_group_code="NOPE")


def test_unit_cost_and_duration_cannot_be_negative_and_enums_are_checked(base: Session) -> None:
    with pytest.raises(ValidationError):
        InteractionTemplateCreate(code="X", interaction_group_code="G1", unit_cost=Decimal(-1))
    with pytest.raises(ValidationError):
        InteractionTemplateUpdate.model_validate({"unit_duration_min": -5})
    with pytest.raises(ValidationError):
        InteractionTemplateUpdate.model_validate({"wizard_action": "print"})


def test_a_duplicate_template_code_is_a_conflict(base: Session) -> None:
    with pytest.raises(Conflict):
        templates.create_template(base, InteractionTemplateCreate(code="LETTER", interaction_group_code="G1"))


def test_setting_a_default_language_creates_its_row_with_the_template_description(base: Session) -> None:
    update(base, language_code_default="fra")
    row = templates.template_language(base, "LETTER", "FRA")
    assert row is not None and row.description == "A letter"
    assert templates.get_template(base, "LETTER").language_code_default == "FRA"


def test_a_new_template_with_a_default_language_gets_its_row(base: Session) -> None:
    templates.create_template(
        base,
        InteractionTemplateCreate(
            code="MEMO", interaction_group_code="G1", description="Memo", language_code_default="ENU"
        ),
    )
    assert templates.language_codes(base, "MEMO") == ["ENU"]


def test_the_default_language_must_exist(base: Session) -> None:
    with pytest.raises(Invalid) as info:
        update(base, language_code_default="XXX")
    assert info.value.field == "language_code_default"


def test_the_blank_language_is_a_valid_row(base: Session) -> None:
    add_language(base, "")
    assert templates.language_codes(base, "LETTER") == [""]
    with pytest.raises(Conflict):
        add_language(base, "")


# --- wizard action -----------------------------------------------------------------------------


def test_an_html_attachment_can_only_be_merged(base: Session) -> None:
    add_language(base, "ENU", "body.html", HTML)
    update(base, language_code_default="ENU")
    assert templates.get_template(base, "LETTER").wizard_action == "merge"
    with pytest.raises(Invalid) as info:
        update(base, wizard_action="open")
    assert info.value.field == "wizard_action"
    assert info.value.message.startswith("Wizard Action = open can not be specified for Interaction Template LETTER")


def test_merge_needs_a_word_document_or_an_html_body(base: Session) -> None:
    add_language(base, "ENU", "brochure.pdf", b"%PDF-1.4")
    update(base, language_code_default="ENU")
    with pytest.raises(Invalid, match="Wizard Action = merge can not be specified"):
        update(base, wizard_action="merge")
    update(base, wizard_action="open")
    assert templates.get_template(base, "LETTER").wizard_action == "open"


def test_a_word_document_cannot_be_imported(base: Session) -> None:
    add_language(base, "ENU", "letter.docx", docx_bytes())
    update(base, language_code_default="ENU")
    with pytest.raises(Invalid, match="Wizard Action = import"):
        update(base, wizard_action="import")
    update(base, wizard_action="merge")
    assert templates.get_template(base, "LETTER").wizard_action == "merge"


def test_merge_without_any_attachment_is_refused(base: Session) -> None:
    update(base, language_code_default="ENU")
    with pytest.raises(Invalid, match="no attachment"):
        update(base, wizard_action="merge")


def test_without_a_row_for_the_default_language_any_action_is_accepted(base: Session) -> None:
    update(base, wizard_action="merge")
    assert templates.get_template(base, "LETTER").wizard_action == "merge"


def test_switching_to_a_language_without_a_word_document_resets_merge(base: Session) -> None:
    add_language(base, "ENU", "letter.docx", docx_bytes())
    update(base, language_code_default="ENU", wizard_action="merge")
    update(base, language_code_default="FRA")
    template = templates.get_template(base, "LETTER")
    assert template.language_code_default == "FRA" and template.wizard_action == ""


def test_uploading_an_html_body_to_the_default_language_makes_the_template_merge(base: Session) -> None:
    update(base, language_code_default="ENU")
    templates.set_language_attachment(base, "LETTER", "ENU", "body.html", "text/html", HTML)
    assert templates.get_template(base, "LETTER").wizard_action == "merge"
    templates.remove_language_attachment(base, "LETTER", "ENU")
    assert templates.get_template(base, "LETTER").wizard_action == ""


# --- deletes ---------------------------------------------------------------------------------


def test_deleting_a_template_deletes_its_languages_and_their_attachments_except_read_only(base: Session) -> None:
    add_language(base, "ENU", "a.txt", b"hello")
    add_language(base, "FRA", "b.txt", b"bonjour")
    enu, fra = templates.attachment_for(base, "LETTER", "ENU"), templates.attachment_for(base, "LETTER", "FRA")
    assert enu is not None and fra is not None
    attachments.mark_read_only(base, [fra])
    templates.delete_template(base, "LETTER")
    assert base.get(InteractionTemplateLanguage, ("LETTER", "ENU")) is None
    assert base.get(Attachment, enu) is None
    assert base.get(Attachment, fra) is not None
    with pytest.raises(NotFound):
        templates.get_template(base, "LETTER")


def test_a_group_used_by_templates_cannot_be_deleted(base: Session) -> None:
    with pytest.raises(Conflict):
        templates.delete_group(base, "G1")
    templates.delete_template(base, "LETTER")
    templates.delete_group(base, "G1")
    with pytest.raises(NotFound):
        templates.get_group(base, "G1")


def test_a_template_used_by_interaction_template_setup_cannot_be_deleted(base: Session) -> None:
    base.add(InteractionTemplateSetupSlot(slot="outgoing_calls", interaction_template_code="LETTER"))
    base.flush()
    with pytest.raises(Conflict, match="outgoing_calls"):
        templates.delete_template(base, "LETTER")


def test_deleting_the_default_language_row_removes_its_attachment_and_clears_the_default(base: Session) -> None:
    add_language(base, "ENU", "a.txt", b"hello")
    update(base, language_code_default="ENU")
    no = templates.attachment_for(base, "LETTER", "ENU")
    templates.delete_template_language(base, "LETTER", "ENU")
    assert templates.get_template(base, "LETTER").language_code_default == ""
    assert no is not None and base.get(Attachment, no) is None


# --- helpers for the interaction log -----------------------------------------------------------


def test_find_language_prefers_the_contacts_language_then_the_default(base: Session) -> None:
    add_language(base, "FRA")
    update(base, language_code_default="ENU")
    assert templates.find_language(base, "LETTER", "FRA") == "FRA"
    assert templates.find_language(base, "LETTER", "DEU") == "ENU"
    assert templates.find_language(base, "NOPE", "FRA") == ""
    assert templates.language_codes(base, "LETTER") == ["ENU", "FRA"]


def test_attachment_for_is_the_rows_attachment(base: Session) -> None:
    add_language(base, "ENU", "letter.docx", docx_bytes())
    no = templates.attachment_for(base, "LETTER", "ENU")
    assert no is not None and attachments.get_attachment(base, no).file_extension == "docx"
    assert templates.attachment_for(base, "LETTER", "FRA") is None
    assert templates.default_attachments(base, ["LETTER"]) == {"LETTER": None}
    update(base, language_code_default="ENU")
    assert templates.default_attachments(base, ["LETTER"]) == {"LETTER": no}


def test_template_and_group_statistics_count_entries_that_are_neither_canceled_nor_postponed(base: Session) -> None:
    def entry(day: int, **flags: bool) -> InteractionLogEntry:
        return InteractionLogEntry(
            interaction_template_code="LETTER",
            interaction_group_code="G1",
            date=dt.date(2026, 1, day),
            cost=Decimal("2.50"),
            duration_min=Decimal(10),
            **flags,
        )

    base.add_all([entry(1), entry(2), entry(3, canceled=True), entry(4, postponed=True)])
    base.flush()
    totals = templates.template_statistics(base, ["LETTER"])["LETTER"]
    assert (totals.no_of_interactions, totals.cost, totals.duration_min) == (2, Decimal("5.00"), Decimal(20))
    assert templates.group_statistics(base, ["G1"], dt.date(2026, 1, 2))["G1"].no_of_interactions == 1


# --- attachments -----------------------------------------------------------------------------


def test_attachment_numbers_are_given_by_the_database_in_creation_order(session: Session) -> None:
    first = attachments.store_attachment(session, "x.txt", "", b"x")
    stored = attachments.store_attachment(session, "Notes.TXT", "", b"hi")
    assert (first.no, stored.no) == (1, 2)
    assert stored.file_extension == "txt" and stored.media_type == "text/plain" and stored.size == 2
    assert stored.storage_type == "embedded" and attachments.read_content(session, 2) == b"hi"


def test_a_copy_is_a_new_attachment_with_the_same_content(session: Session) -> None:
    original = attachments.store_attachment(session, "letter.docx", "", docx_bytes())
    attachments.mark_read_only(session, [original.no])
    copy = attachments.copy_attachment(session, original.no)
    assert copy.no == original.no + 1 and not copy.read_only
    assert attachments.read_content(session, copy.no) == docx_bytes()


def test_a_read_only_attachment_cannot_be_replaced_or_removed_unless_forced(session: Session) -> None:
    stored = attachments.store_attachment(session, "a.txt", "", b"one")
    attachments.mark_read_only(session, [stored.no])
    with pytest.raises(Conflict, match="read-only because logged interactions use it"):
        attachments.replace_content(session, stored.no, "b.txt", "", b"two")
    with pytest.raises(Conflict):
        attachments.remove_attachment(session, stored.no)
    attachments.remove_attachment(session, stored.no, force=True)
    assert session.get(Attachment, stored.no) is None


def test_replacing_content_keeps_the_number(session: Session) -> None:
    stored = attachments.store_attachment(session, "a.txt", "", b"one")
    replaced = attachments.replace_content(session, stored.no, "b.html", "text/html", HTML)
    assert replaced.no == stored.no and replaced.file_name == "b.html" and replaced.file_extension == "html"
    assert attachments.read_content(session, stored.no) == HTML


@pytest.mark.parametrize(
    ("file_name", "data", "message"),
    [
        ("fake.docx", b"not a zip", "not a Word document"),
        ("body.html", "é".encode("latin-1"), "not UTF-8"),
        ("empty.txt", b"", "empty"),
        ("empty.zip", b"", "empty"),
    ],
)
def test_uploads_are_checked_against_their_extension(
    session: Session, file_name: str, data: bytes, message: str
) -> None:
    with pytest.raises(Invalid, match=message) as info:
        attachments.store_attachment(session, file_name, "", data)
    assert info.value.field == "file"


def test_a_client_path_is_reduced_to_the_file_name(session: Session) -> None:
    assert attachments.store_attachment(session, "C:\\Users\\me\\letter.txt", "", b"x").file_name == "letter.txt"
    assert attachments.store_attachment(session, "../../etc/notes.txt", "", b"x").file_name == "notes.txt"


def disk_setup(session: Session, folder: Path) -> None:
    setup.update_marketing_setup(
        session, MarketingSetupUpdate(attachment_storage_type="disk_file", attachment_storage_location=str(folder))
    )


def test_disk_storage_writes_reads_and_removes_a_real_file(session: Session, tmp_path: Path) -> None:
    folder = tmp_path / "store" / "nested"
    disk_setup(session, folder)
    stored = attachments.store_attachment(session, "letter.docx", "", docx_bytes())
    path = Path(stored.storage_pointer)
    assert stored.storage_type == "disk_file" and stored.content is None
    assert path.parent == folder.resolve() and path.read_bytes() == docx_bytes()
    assert attachments.read_content(session, stored.no) == docx_bytes()
    session.commit()
    attachments.remove_attachment(session, stored.no)
    assert path.exists()  # kept until the removal commits
    session.commit()
    assert not path.exists()


def test_a_rolled_back_upload_leaves_no_file_behind(session: Session, tmp_path: Path) -> None:
    disk_setup(session, tmp_path)
    session.commit()
    stored = attachments.store_attachment(session, "a.txt", "", b"x")
    path = Path(stored.storage_pointer)
    assert path.exists()
    session.rollback()
    assert not path.exists()


def test_a_missing_disk_file_is_reported_clearly(session: Session, tmp_path: Path) -> None:
    disk_setup(session, tmp_path)
    stored = attachments.store_attachment(session, "a.txt", "", b"x")
    Path(stored.storage_pointer).unlink()
    with pytest.raises(Conflict, match=f"The file of attachment {stored.no} is missing"):
        attachments.read_content(session, stored.no)


def test_a_copy_of_a_disk_attachment_gets_its_own_file(session: Session, tmp_path: Path) -> None:
    disk_setup(session, tmp_path)
    original = attachments.store_attachment(session, "a.txt", "", b"same")
    copy = attachments.copy_attachment(session, original.no)
    assert copy.storage_pointer != original.storage_pointer
    assert Path(copy.storage_pointer).read_bytes() == b"same"
