"""Uploading and downloading template attachments through the API."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest

from rapport.core import attachments

API = "/api/v1"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "<html><body><p>Chère {{Contact_Name}},</p></body></html>".encode()
ATTACHMENT = f"{API}/interaction-templates/LETTER/languages/ENU/attachment"

FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # zip entries carry a timestamp: keep the bytes stable


def docx_bytes() -> bytes:
    """A small real Word document with a MERGEFIELD."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("[Content_Types].xml", FIXED_TIME), '<?xml version="1.0"?><Types/>')
        archive.writestr(
            zipfile.ZipInfo("word/document.xml", FIXED_TIME),
            '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            '<w:body><w:p><w:fldSimple w:instr=" MERGEFIELD Contact_Name "><w:r><w:t>«Contact_Name»</w:t></w:r>'
            "</w:fldSimple></w:p></w:body></w:document>",
        )
    return buffer.getvalue()


@pytest.fixture
def letter(client, admin):
    """Template LETTER with an ENU language row (its default language)."""
    for path, body in (
        ("/languages", {"code": "ENU", "name": "English"}),
        ("/interaction-groups", {"code": "G1"}),
        ("/interaction-templates", {"code": "LETTER", "interaction_group_code": "G1", "language_code_default": "ENU"}),
    ):
        response = client.post(API + path, json=body, headers=admin)
        assert response.status_code == 201, response.text


def upload(client, headers, name, data, media_type="application/octet-stream", url=ATTACHMENT):
    return client.put(url, files={"file": (name, data, media_type)}, headers=headers)


def test_a_word_document_round_trips_through_upload_and_download(client, admin, letter):
    response = upload(client, admin, "Lettre d'accueil.docx", docx_bytes())
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["file_name"] == "Lettre d'accueil.docx" and stored["file_extension"] == "docx"
    assert stored["media_type"] == DOCX and stored["size"] == len(docx_bytes())
    assert stored["storage_type"] == "embedded" and stored["read_only"] is False
    no = stored["attachment_no"]

    download = client.get(ATTACHMENT, headers=admin)
    assert download.status_code == 200
    assert download.content == docx_bytes()
    assert download.headers["content-type"] == DOCX
    assert "filename*=UTF-8''Lettre%20d%27accueil.docx" in download.headers["content-disposition"]
    assert download.headers["content-disposition"].startswith("attachment;")
    assert client.get(f"{API}/attachments/{no}", headers=admin).content == docx_bytes()

    template = client.get(f"{API}/interaction-templates/LETTER", headers=admin).json()
    assert template["attachment_no"] == no
    row = client.get(f"{API}/interaction-templates/LETTER/languages/ENU", headers=admin).json()
    assert row["attachment_no"] == no
    merge = client.patch(f"{API}/interaction-templates/LETTER", json={"wizard_action": "merge"}, headers=admin)
    assert merge.status_code == 200
    imported = client.patch(f"{API}/interaction-templates/LETTER", json={"wizard_action": "import"}, headers=admin)
    assert imported.status_code == 422 and imported.json()["error"]["field"] == "wizard_action"


def test_an_html_body_replaces_the_document_and_the_template_merges(client, admin, letter):
    first = upload(client, admin, "letter.docx", docx_bytes()).json()
    replaced = upload(client, admin, "body.html", HTML, "text/html")
    assert replaced.status_code == 200
    assert replaced.json()["attachment_no"] == first["attachment_no"]
    download = client.get(ATTACHMENT, headers=admin)
    assert download.content == HTML and download.headers["content-type"].startswith("text/html")
    assert download.headers["x-content-type-options"] == "nosniff"
    template = client.get(f"{API}/interaction-templates/LETTER", headers=admin).json()
    assert template["wizard_action"] == "merge"
    response = client.patch(f"{API}/interaction-templates/LETTER", json={"wizard_action": "open"}, headers=admin)
    assert response.status_code == 422


def test_files_that_do_not_match_their_extension_are_invalid(client, admin, letter):
    for name, data in (("fake.docx", b"PK not really"), ("body.html", b"\xff\xfe\x00bad"), ("empty.zip", b"")):
        response = upload(client, admin, name, data)
        assert response.status_code == 422, name
        assert response.json()["error"]["field"] == "file"
    missing = client.put(ATTACHMENT, data={"other": "x"}, headers=admin)
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "file"


@pytest.mark.parametrize(
    ("name", "sent_as", "served_as"),
    [
        ("brochure.zip", "application/zip", "application/zip"),
        ("fields.json", "application/json", "application/json"),
        ("notes.md", "application/octet-stream", "application/octet-stream"),
        ("meeting.ics", "text/calendar", "text/calendar"),
        ("README", "", "application/octet-stream"),
        ("tool.exe", "application/x-msdownload", "application/x-msdownload"),
        # A type that a browser would render as a page or run is not taken for a file that is not one.
        ("page.md", "text/html", "application/octet-stream"),
        ("drawing.svgz", "image/svg+xml", "application/octet-stream"),
        ("odd.bin", "not a type", "application/octet-stream"),
        ("minutes v2.final draft of the autumn meeting", "", "application/octet-stream"),
        ("archive.averyveryverylongextension", "application/x-custom", "application/x-custom"),
    ],
)
def test_any_other_file_is_accepted_and_always_downloaded_as_a_file(client, admin, letter, name, sent_as, served_as):
    data = b"PK\x03\x04 any bytes \xff\x00"
    response = upload(client, admin, name, data, sent_as)
    assert response.status_code == 201, response.text
    stored = response.json()
    assert (stored["file_name"], stored["media_type"], stored["size"]) == (name, served_as, len(data))
    for url in (ATTACHMENT, f"{API}/attachments/{stored['attachment_no']}"):
        download = client.get(url, headers=admin)
        assert download.status_code == 200 and download.content == data
        assert download.headers["content-type"].split(";")[0] == served_as
        assert download.headers["content-disposition"].startswith("attachment;")
        assert f"filename*=UTF-8''{quote(name, safe='')}" in download.headers["content-disposition"]
        assert download.headers["x-content-type-options"] == "nosniff"


def test_removing_an_attachment_clears_the_language_row(client, admin, letter):
    no = upload(client, admin, "notes.txt", b"hello").json()["attachment_no"]
    assert client.delete(ATTACHMENT, headers=admin).status_code == 204
    assert client.get(ATTACHMENT, headers=admin).status_code == 404
    assert client.get(f"{API}/attachments/{no}", headers=admin).status_code == 404
    assert client.delete(ATTACHMENT, headers=admin).status_code == 404
    assert client.get(f"{API}/interaction-templates/LETTER", headers=admin).json()["attachment_no"] is None


def test_a_read_only_attachment_cannot_be_replaced_or_removed(client, admin, letter, app):
    no = upload(client, admin, "notes.txt", b"hello").json()["attachment_no"]
    with app.state.sessionmaker() as session:
        attachments.mark_read_only(session, [no])
        session.commit()
    replaced = upload(client, admin, "notes.txt", b"changed")
    assert replaced.status_code == 409
    assert replaced.json()["error"]["message"] == "The attachment is read-only because logged interactions use it."
    assert client.delete(ATTACHMENT, headers=admin).status_code == 409
    assert client.get(ATTACHMENT, headers=admin).content == b"hello"


def test_unknown_templates_languages_and_attachments_are_not_found(client, admin, letter):
    url = f"{API}/interaction-templates/LETTER/languages/FRA/attachment"
    response = upload(client, admin, "a.txt", b"x", url=url)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.get(f"{API}/attachments/999", headers=admin).status_code == 404
    nope = upload(client, admin, "a.txt", b"x", url=f"{API}/interaction-templates/NOPE/languages/ENU/attachment")
    assert nope.status_code == 404


def test_only_marketing_uploads_but_readers_download(client, admin, headers_for, letter):
    assert upload(client, headers_for("sales"), "a.txt", b"x").status_code == 403
    upload(client, admin, "a.txt", b"x")
    assert client.get(ATTACHMENT, headers=headers_for("viewer")).content == b"x"


def test_attachments_on_disk_are_written_and_removed_with_the_request(client, admin, letter, tmp_path: Path):
    folder = tmp_path / "attachments"
    setup = client.put(
        f"{API}/setup/marketing",
        json={"attachment_storage_type": "disk_file", "attachment_storage_location": str(folder)},
        headers=admin,
    )
    assert setup.status_code == 200, setup.text
    stored = upload(client, admin, "letter.docx", docx_bytes())
    assert stored.status_code == 201 and stored.json()["storage_type"] == "disk_file"
    files = list(folder.iterdir())
    assert len(files) == 1 and files[0].read_bytes() == docx_bytes()
    assert client.get(ATTACHMENT, headers=admin).content == docx_bytes()
    assert client.delete(ATTACHMENT, headers=admin).status_code == 204
    assert list(folder.iterdir()) == []
