"""The enumerations of the domain, with their API values and Business Central captions."""

from __future__ import annotations

from enum import StrEnum


class ContactType(StrEnum):
    COMPANY = "company"
    PERSON = "person"


class CorrespondenceType(StrEnum):
    BLANK = ""
    HARD_COPY = "hard_copy"
    EMAIL = "email"


class InformationFlow(StrEnum):
    BLANK = ""
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class InitiatedBy(StrEnum):
    BLANK = ""
    US = "us"
    THEM = "them"


class Evaluation(StrEnum):
    BLANK = ""
    VERY_POSITIVE = "very_positive"
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    VERY_NEGATIVE = "very_negative"


class WizardAction(StrEnum):
    BLANK = ""
    OPEN = "open"
    IMPORT = "import"
    MERGE = "merge"


class DeliveryStatus(StrEnum):
    BLANK = ""
    IN_PROGRESS = "in_progress"
    SENT = "sent"
    ERROR = "error"


class LinkToTable(StrEnum):
    BLANK = ""
    CUSTOMER = "customer"
    VENDOR = "vendor"
    BANK_ACCOUNT = "bank_account"
    EMPLOYEE = "employee"


class AttachmentStorageType(StrEnum):
    EMBEDDED = "embedded"
    DISK_FILE = "disk_file"


class Role(StrEnum):
    ADMIN = "admin"
    MARKETING = "marketing"
    SALES = "sales"
    VIEWER = "viewer"


class DocumentType(StrEnum):
    BLANK = ""
    SALES_QUOTE = "sales_quote"
    SALES_BLANKET_ORDER = "sales_blanket_order"
    SALES_ORDER_CONFIRMATION = "sales_order_confirmation"
    SALES_INVOICE = "sales_invoice"
    SALES_SHIPMENT_NOTE = "sales_shipment_note"
    SALES_CREDIT_MEMO = "sales_credit_memo"
    SALES_STATEMENT = "sales_statement"
    SALES_REMINDER = "sales_reminder"
    SERVICE_ORDER_CREATE = "service_order_create"
    SERVICE_ORDER_POST = "service_order_post"
    PURCHASE_QUOTE = "purchase_quote"
    PURCHASE_BLANKET_ORDER = "purchase_blanket_order"
    PURCHASE_ORDER = "purchase_order"
    PURCHASE_INVOICE = "purchase_invoice"
    PURCHASE_RECEIPT = "purchase_receipt"
    PURCHASE_CREDIT_MEMO = "purchase_credit_memo"
    COVER_SHEET = "cover_sheet"
    SALES_RETURN_ORDER = "sales_return_order"
    SALES_FINANCE_CHARGE_MEMO = "sales_finance_charge_memo"
    SALES_RETURN_RECEIPT = "sales_return_receipt"
    PURCHASE_RETURN_SHIPMENT = "purchase_return_shipment"
    PURCHASE_RETURN_ORDER_CONFIRMATION = "purchase_return_order_confirmation"
    SERVICE_CONTRACT = "service_contract"
    SERVICE_CONTRACT_QUOTE = "service_contract_quote"
    SERVICE_QUOTE = "service_quote"
    SALES_DRAFT_INVOICE = "sales_draft_invoice"


CAPTIONS: dict[type[StrEnum], dict[str, str]] = {
    # Business Central's captions of the Interaction Log Entry's Document Type (domain.md)
    DocumentType: {
        DocumentType.BLANK.value: " ",
        DocumentType.SALES_QUOTE.value: "Sales Qte.",
        DocumentType.SALES_BLANKET_ORDER.value: "Sales Blnkt. Ord",
        DocumentType.SALES_ORDER_CONFIRMATION.value: "Sales Ord. Cnfrmn.",
        DocumentType.SALES_INVOICE.value: "Sales Inv.",
        DocumentType.SALES_SHIPMENT_NOTE.value: "Sales Shpt. Note",
        DocumentType.SALES_CREDIT_MEMO.value: "Sales Cr. Memo",
        DocumentType.SALES_STATEMENT.value: "Sales Stmnt.",
        DocumentType.SALES_REMINDER.value: "Sales Rmdr.",
        DocumentType.SERVICE_ORDER_CREATE.value: "Serv. Ord. Create",
        DocumentType.SERVICE_ORDER_POST.value: "Serv. Ord. Post",
        DocumentType.PURCHASE_QUOTE.value: "Purch.Qte.",
        DocumentType.PURCHASE_BLANKET_ORDER.value: "Purch. Blnkt. Ord.",
        DocumentType.PURCHASE_ORDER.value: "Purch. Ord.",
        DocumentType.PURCHASE_INVOICE.value: "Purch. Inv.",
        DocumentType.PURCHASE_RECEIPT.value: "Purch. Rcpt.",
        DocumentType.PURCHASE_CREDIT_MEMO.value: "Purch. Cr. Memo",
        DocumentType.COVER_SHEET.value: "Cover Sheet",
        DocumentType.SALES_RETURN_ORDER.value: "Sales Return Order",
        DocumentType.SALES_FINANCE_CHARGE_MEMO.value: "Sales Finance Charge Memo",
        DocumentType.SALES_RETURN_RECEIPT.value: "Sales Return Receipt",
        DocumentType.PURCHASE_RETURN_SHIPMENT.value: "Purch. Return Shipment",
        DocumentType.PURCHASE_RETURN_ORDER_CONFIRMATION.value: "Purch. Return Ord. Cnfrmn.",
        DocumentType.SERVICE_CONTRACT.value: "Service Contract",
        DocumentType.SERVICE_CONTRACT_QUOTE.value: "Service Contract Quote",
        DocumentType.SERVICE_QUOTE.value: "Service Quote",
        DocumentType.SALES_DRAFT_INVOICE.value: "Sales Draft Invoice",
    },
    ContactType: {"company": "Company", "person": "Person"},
    CorrespondenceType: {"": " ", "hard_copy": "Hard Copy", "email": "Email"},
    InformationFlow: {"": " ", "outbound": "Outbound", "inbound": "Inbound"},
    InitiatedBy: {"": " ", "us": "Us", "them": "Them"},
    Evaluation: {
        "": " ",
        "very_positive": "Very Positive",
        "positive": "Positive",
        "neutral": "Neutral",
        "negative": "Negative",
        "very_negative": "Very Negative",
    },
    WizardAction: {"": " ", "open": "Open", "import": "Import", "merge": "Merge"},
    DeliveryStatus: {"": " ", "in_progress": "In Progress", "sent": "Sent", "error": "Error"},
    LinkToTable: {
        "": " ",
        "customer": "Customer",
        "vendor": "Vendor",
        "bank_account": "Bank Account",
        "employee": "Employee",
    },
}


def captions(enum: type[StrEnum]) -> dict[str, str]:
    """API value -> caption of an enum (the caption defaults to the value in title case)."""
    known = CAPTIONS.get(enum)
    if known is not None:
        return known
    return {m.value: (m.value.replace("_", " ").title() or " ") for m in enum}


# Interaction Template Setup's caption for each document type (domain.md 3.22): the description of the
# campaign entry that all interactions logged from documents of that type for one campaign share
# (domain.md 3.16 step 2). Where it is not the document type's own caption, it is given here.
TEMPLATE_SETUP_CAPTIONS: dict[str, str] = {
    **{value: caption for value, caption in CAPTIONS[DocumentType].items() if value},
    DocumentType.SALES_QUOTE.value: "Sales Quotes",
    DocumentType.SALES_INVOICE.value: "Sales Invoices",
    DocumentType.SALES_STATEMENT.value: "Sales Statement",
    DocumentType.SERVICE_ORDER_CREATE.value: "Serv Ord Create",
    DocumentType.SERVICE_ORDER_POST.value: "Serv Ord Post",
    DocumentType.PURCHASE_QUOTE.value: "Purch. Quotes",
    DocumentType.PURCHASE_BLANKET_ORDER.value: "Purch Blnkt Ord",
    DocumentType.PURCHASE_ORDER.value: "Purch. Orders",
    DocumentType.PURCHASE_INVOICE.value: "Purch Invoices",
    DocumentType.PURCHASE_CREDIT_MEMO.value: "Purch Cr Memos",
    DocumentType.COVER_SHEET.value: "Cover Sheets",
    DocumentType.SALES_DRAFT_INVOICE.value: "Sales Draft Invoices",
}
