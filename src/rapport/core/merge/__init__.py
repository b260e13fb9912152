"""Mail merge: Word (MERGEFIELD) letters, single or bound into one book, and {{Field_Name}} e-mail bodies.

Pure: no database and no web framework. Field names are matched without regard to case; a name the
record lacks renders empty and is reported in `missing`, never an error.
"""

from rapport.core.merge.book import LetterBook, merge_letters
from rapport.core.merge.build import make_docx
from rapport.core.merge.convert import ConversionFailed, docx_to_html, docx_to_text, is_html, is_word, to_pdf
from rapport.core.merge.fields import FIELD_NAMES, RenderResult, render_text
from rapport.core.merge.word import MergeResult, merge_docx, merge_fields_in_docx

__all__ = [
    "FIELD_NAMES",
    "ConversionFailed",
    "LetterBook",
    "MergeResult",
    "RenderResult",
    "docx_to_html",
    "docx_to_text",
    "is_html",
    "is_word",
    "make_docx",
    "merge_docx",
    "merge_fields_in_docx",
    "merge_letters",
    "render_text",
    "to_pdf",
]
