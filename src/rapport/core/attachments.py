"""Attachments: the files of templates and interactions, kept in the database or on disk."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import uuid
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, LargeBinary, String, event, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from rapport.core import setup
from rapport.core.base import get_or_404, next_number
from rapport.core.enums import AttachmentStorageType
from rapport.db import Base
from rapport.errors import Conflict, Invalid

log = logging.getLogger(__name__)

# The media type each known kind of file is served as. Any other file is accepted too (api.md: "or any
# file"): it is served as the type it was uploaded with, else as OCTET_STREAM.
MEDIA_TYPES: dict[str, str] = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "dotx": "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    "doc": "application/msword",
    "html": "text/html",
    "htm": "text/html",
    "txt": "text/plain",
    "pdf": "application/pdf",
    "rtf": "application/rtf",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "ppt": "application/vnd.ms-powerpoint",
    "csv": "text/csv",
    "eml": "message/rfc822",
    "msg": "application/vnd.ms-outlook",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "webp": "image/webp",
}
OCTET_STREAM = "application/octet-stream"
# Types a browser would show as a page or run as a script: taken from a client only for a file whose own
# extension has that type (a .html e-mail body), never for another one.
_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "text/ecmascript",
    }
)
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
_EXTENSION = re.compile(r"[a-z0-9_+-]{1,20}")
HTML_EXTENSIONS = frozenset({"html", "htm"})
WORD_EXTENSION = "docx"
_TEXT_EXTENSIONS = HTML_EXTENSIONS | {"txt"}

# session.info keys: files written in the open transaction, files to delete once it commits.
_WRITTEN = "rapport.attachments.written"
_TO_DELETE = "rapport.attachments.to_delete"


class Attachment(Base):
    """A stored file: its content is embedded in the row or kept in a file on disk."""

    __tablename__ = "attachment"

    # Highest + 1 (domain.md 1.7), given by core.base.next_number under a lock held until commit.
    no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    file_name: Mapped[str] = mapped_column(String(250), default="")
    file_extension: Mapped[str] = mapped_column(String(20), default="")
    media_type: Mapped[str] = mapped_column(String(100), default="")
    storage_type: Mapped[str] = mapped_column(String(20), default=AttachmentStorageType.EMBEDDED.value)
    storage_pointer: Mapped[str] = mapped_column(String(500), default="")
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    size: Mapped[int] = mapped_column(Integer, default=0)
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    last_modified: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    @property
    def is_html(self) -> bool:
        """BC's "HTML attachment": an e-mail body that is merged, never imported."""
        return self.file_extension in HTML_EXTENSIONS

    @property
    def is_word(self) -> bool:
        """A Word document (.docx) whose MERGEFIELDs are filled per contact."""
        return self.file_extension == WORD_EXTENSION


# --- files on disk follow the transaction ----------------------------------------------------


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_WRITTEN, None)
    for path in session.info.pop(_TO_DELETE, []):
        _unlink(path)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is not None:
        return
    # Not committed (rolled back or closed): the files it wrote belong to no row.
    for path in session.info.pop(_WRITTEN, []):
        _unlink(path)
    session.info.pop(_TO_DELETE, None)


def _unlink(path: str) -> None:
    try:
        Path(path).unlink(missing_ok=True)
    except OSError as exc:
        log.warning("External file could not be removed: %s (%s)", path, exc)


# --- validation ------------------------------------------------------------------------------


def clean_file_name(file_name: str) -> str:
    """The bare file name a client sent (no folders), or Invalid."""
    name = PureWindowsPath(PurePosixPath(file_name or "").name).name.strip()
    if not name or name in (".", ".."):
        raise Invalid("The file has no name; send it with a file name such as letter.docx.", field="file")
    if len(name) > 250:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 249 - len(ext)] + dot + ext) if dot else name[:250]
    return name


def extension_of(file_name: str) -> str:
    """The lower-case extension without the dot ('' when none): letters, digits, '_', '+' and '-', at most
    20 of them (what follows the last dot of "minutes v2.final draft" is no extension)."""
    stem, dot, ext = file_name.rpartition(".")
    ext = ext.lower()
    return ext if dot and stem and _EXTENSION.fullmatch(ext) else ""


def validate_upload(file_name: str, data: bytes) -> str:
    """The file's extension after checking that the content matches it: a .docx must be a Word document
    and an e-mail body UTF-8 text; any other file is taken as it is (and always downloaded, never shown)."""
    extension = extension_of(file_name)
    if not data:
        raise Invalid(f"The file {file_name} is empty.", field="file")
    if extension == WORD_EXTENSION:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                has_body = "word/document.xml" in archive.namelist()
        except (zipfile.BadZipFile, ValueError):
            has_body = False
        if not has_body:
            raise Invalid(
                f"{file_name} is not a Word document: a .docx must be a zip archive with word/document.xml.",
                field="file",
            )
    if extension in _TEXT_EXTENSIONS:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Invalid(f"{file_name} is not UTF-8 text; save it with UTF-8 encoding.", field="file") from exc
    return extension


# --- queries ---------------------------------------------------------------------------------


def get_attachment(session: Session, no: int) -> Attachment:
    """The attachment with this number, or NotFound."""
    return get_or_404(session, Attachment, no, "Attachment")


def read_content(session: Session, no: int) -> bytes:
    """The attachment's content, from the row or from its file on disk."""
    attachment = get_attachment(session, no)
    if attachment.storage_type != AttachmentStorageType.DISK_FILE.value:
        return attachment.content or b""
    try:
        return Path(attachment.storage_pointer).read_bytes()
    except FileNotFoundError as exc:
        raise Conflict(
            f"The file of attachment {no} is missing at {attachment.storage_pointer}; "
            "restore it there or upload the attachment again."
        ) from exc
    except OSError as exc:
        raise Conflict(f"The file of attachment {no} at {attachment.storage_pointer} cannot be read: {exc}.") from exc


# --- commands --------------------------------------------------------------------------------


def _put_content(session: Session, attachment: Attachment, data: bytes) -> None:
    """Store `data` where Marketing Setup says, on the row or in a new file."""
    marketing = setup.get_marketing_setup(session)
    attachment.size = len(data)
    attachment.last_modified = dt.datetime.now(dt.UTC)
    if marketing.attachment_storage_type != AttachmentStorageType.DISK_FILE.value:
        attachment.storage_type = AttachmentStorageType.EMBEDDED.value
        attachment.storage_pointer = ""
        attachment.content = data
        return
    if not marketing.attachment_storage_location:
        raise Conflict(
            "Attachment Storage Location must have a value in Marketing Setup when attachments are stored on disk."
        )
    folder = Path(marketing.attachment_storage_location)
    suffix = f".{attachment.file_extension}" if attachment.file_extension else ""
    path = (folder / f"{attachment.no}-{uuid.uuid4().hex}{suffix}").resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise Conflict(f"The attachment cannot be written to {folder}: {exc}.") from exc
    session.info.setdefault(_WRITTEN, []).append(str(path))
    attachment.storage_type = AttachmentStorageType.DISK_FILE.value
    attachment.storage_pointer = str(path)
    attachment.content = None


def _forget_file(session: Session, attachment: Attachment) -> None:
    """Delete the attachment's file once the transaction commits (kept if it rolls back)."""
    if attachment.storage_type == AttachmentStorageType.DISK_FILE.value and attachment.storage_pointer:
        session.info.setdefault(_TO_DELETE, []).append(attachment.storage_pointer)


def store_attachment(session: Session, file_name: str, media_type: str, data: bytes) -> Attachment:
    """A new attachment holding `data`, stored as Marketing Setup says (embedded or on disk)."""
    name = clean_file_name(file_name)
    extension = validate_upload(name, data)
    attachment = Attachment(
        no=next_number(session, Attachment.no),
        file_name=name,
        file_extension=extension,
        media_type=_media_type(media_type, extension),
        read_only=False,
    )
    _put_content(session, attachment, data)
    session.add(attachment)
    session.flush()
    return attachment


def copy_attachment(session: Session, no: int) -> Attachment:
    """A new attachment with the same file name and content (not read-only)."""
    source = get_attachment(session, no)
    data = read_content(session, no)
    copy = Attachment(
        no=next_number(session, Attachment.no),
        file_name=source.file_name,
        file_extension=source.file_extension,
        media_type=source.media_type,
        read_only=False,
    )
    _put_content(session, copy, data)
    session.add(copy)
    session.flush()
    return copy


def replace_content(session: Session, no: int, file_name: str, media_type: str, data: bytes) -> Attachment:
    """Put a new file into an attachment; refused when it is read-only."""
    attachment = get_attachment(session, no)
    if attachment.read_only:
        raise Conflict("The attachment is read-only because logged interactions use it.", field="file")
    name = clean_file_name(file_name)
    extension = validate_upload(name, data)
    _forget_file(session, attachment)
    attachment.file_name = name
    attachment.file_extension = extension
    attachment.media_type = _media_type(media_type, extension)
    _put_content(session, attachment, data)
    session.flush()
    return attachment


def remove_attachment(session: Session, no: int, *, force: bool = False) -> None:
    """Delete an attachment and its file on disk; a read-only one only with `force`."""
    attachment = get_attachment(session, no)
    if attachment.read_only and not force:
        raise Conflict(f"Attachment {no} is read-only because logged interactions use it; it cannot be removed.")
    _forget_file(session, attachment)
    session.delete(attachment)
    session.flush()


def mark_read_only(session: Session, nos: Iterable[int]) -> None:
    """Protect the attachments from being replaced or removed (logging does this)."""
    wanted = sorted(set(nos))
    if wanted:
        session.execute(
            update(Attachment).where(Attachment.no.in_(wanted)).values(read_only=True),
            execution_options={"synchronize_session": "fetch"},
        )


def _media_type(given: str, extension: str) -> str:
    """The type the client gave, when it is a well-formed one that cannot turn the file into a page or
    a script; else the type of the extension, or OCTET_STREAM for an extension Rapport does not know."""
    own = MEDIA_TYPES.get(extension, OCTET_STREAM)
    given = (given or "").split(";")[0].strip().lower()
    if not given or given == OCTET_STREAM or len(given) > 100 or not _MEDIA_TYPE.fullmatch(given):
        return own
    if given in _ACTIVE_TYPES and given != own:
        return own
    return given
