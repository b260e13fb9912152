"""A year of demo interaction history: calls, e-mails, letters, meetings, newsletters, the two
campaigns, documents sent to customers and received from vendors, some canceled and postponed."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from rapport.core import campaigns, documents
from rapport.core.contacts import Contact
from rapport.core.documents import DocumentEvent
from rapport.core.enums import DocumentType, Evaluation
from rapport.core.interactions import operations
from rapport.core.interactions.operations import CancelRequest
from rapport.core.interactions.recording import CommentIn, InteractionCreate, create_interaction
from rapport.demo.contacts import SALESPEOPLE
from rapport.demo.state import USER_ID, Demo

DAYS = 365
CANCELED_SHARE = 0.03
POSTPONED = 10
FAILED_CALLS = 0.12  # outgoing calls nobody answered
# How many of each everyday interaction the year holds (meetings come with invitation and abstract).
EVERYDAY = {"OUT-CALL": 420, "IN-CALL": 230, "EMAIL": 200, "EMAIL-IN": 120, "BUS": 50, "LTR-DOCX": 30}
MEETINGS = 70
NEWSLETTERS = 4
NEWSLETTER_READERS = 30
DOCUMENTS = ((DocumentType.SALES_QUOTE, 8, 1001), (DocumentType.SALES_INVOICE, 17, 103001),
             (DocumentType.PURCHASE_INVOICE, 5, 108001))

SUBJECTS = {
    "OUT-CALL": ("Follow-up on our quote", "Delivery date confirmed", "Introduced the new price list",
                 "Asked about next season's needs", "Payment reminder", "Arranged a visit"),
    "IN-CALL": ("Question about an invoice", "Delivery delayed, asked for status", "Asked for a quote",
                "Complaint about damaged goods", "Wants samples of the new range", "Changed delivery address"),
    "EMAIL": ("Price list and conditions", "Order confirmation details", "Samples on their way",
              "Answer to your question", "Updated delivery schedule"),
    "EMAIL-IN": ("Request for quotation", "Question about terms of payment", "Thank you for the samples",
                 "New contact person in purchasing"),
    "BUS": ("Annual price adjustment", "Confirmation of the framework agreement", "Terms of delivery"),
    "LTR-DOCX": ("Our catalogue", "Welcome to Kestrel Trading"),
    "MEETING": ("Annual review", "Presentation of the new range", "Negotiation of the framework agreement",
                "Visit to the warehouse", "Introduction of the new account manager"),
}
MEETING_NOTES = ("Wants a proposal by the end of the month.", "Interested in exclusive distribution.",
                 "Prices are too high compared with competitors.", "Asked for a second meeting with IT.")
EVALUATIONS = (Evaluation.VERY_POSITIVE, Evaluation.POSITIVE, Evaluation.NEUTRAL, Evaluation.NEGATIVE,
               Evaluation.VERY_NEGATIVE)


@dataclass(order=True)
class _Planned:
    date: dt.date
    time: dt.time
    order: int  # keeps the plan's own order for equal times
    contact: Contact = field(compare=False)
    template: str = field(compare=False)
    values: dict[str, Any] = field(compare=False, default_factory=dict)
    document: DocumentEvent | None = field(compare=False, default=None)


class _Planner:
    """Picks contacts, days and times, and collects what is to be logged."""

    def __init__(self, demo: Demo, today: dt.date) -> None:
        self.demo = demo
        self.rng: random.Random = demo.rng
        self.today = today
        self.plan: list[_Planned] = []
        first = today - dt.timedelta(days=DAYS - 1)
        self.workdays = [d for d in (first + dt.timedelta(days=i) for i in range(DAYS)) if d.weekday() < 5]
        if not self.workdays:
            self.workdays = [today]
        relations = {company.no: 3.0 for _, company in demo.customers}
        relations.update({company.no: 2.0 for _, company in demo.vendors if company.no not in relations})
        staff: dict[str, list[Contact]] = defaultdict(list)
        for person in demo.persons:
            if person.company_no and not person.privacy_blocked:
                staff[person.company_no].append(person)
        self.staff = staff
        self.companies = [c for c in demo.companies if not c.privacy_blocked]
        self.weights = [relations.get(c.no, 1.0) for c in self.companies]
        self.loners = [p for p in demo.persons if not p.company_no and not p.privacy_blocked]

    def contact(self, *, email: bool = False, language: str = "") -> Contact:
        """A contact to interact with: mostly a company's person, customers most often."""
        while True:
            roll = self.rng.random()
            if roll < 0.05 and self.loners:
                contact = self.rng.choice(self.loners)
            else:
                company = self.rng.choices(self.companies, self.weights)[0]
                people = self.staff[company.no]
                contact = self.rng.choice(people) if people and roll < 0.8 else company
            if (contact.email or not email) and (not language or contact.language_code == language):
                return contact

    def day(self, start: dt.date | None = None, end: dt.date | None = None) -> dt.date:
        days = [d for d in self.workdays if (start is None or d >= start) and (end is None or d <= end)]
        return self.rng.choice(days or self.workdays)

    def time(self, first: int = 8, last: int = 17) -> dt.time:
        return dt.time(self.rng.randint(first, last), self.rng.randrange(0, 60, 5))

    def salesperson(self, contact: Contact) -> str:
        own = contact.salesperson_code
        if own and self.rng.random() < 0.88:
            return own
        return self.rng.choice([code for code, _ in SALESPEOPLE if code != own])

    def evaluation(self, share: float) -> Evaluation | None:
        if self.rng.random() >= share:
            return None
        return self.rng.choices(EVALUATIONS, (2, 5, 4, 2, 1))[0]

    @staticmethod
    def workday(day: dt.date, step: int) -> dt.date:
        """The day itself, or the nearest working day before (step -1) or after (step 1) it."""
        while day.weekday() >= 5:
            day += dt.timedelta(days=step)
        return day

    def add(self, date: dt.date, time: dt.time, contact: Contact, template: str, **values: Any) -> None:
        values.setdefault("salesperson_code", self.salesperson(contact))
        if template.endswith("CALL"):
            values.setdefault("contact_via", contact.phone_no or contact.mobile_phone_no)
        elif template.startswith("EMAIL") and contact.email:
            values.setdefault("contact_via", contact.email)
        if template in SUBJECTS and "description" not in values:
            values["description"] = self.rng.choice(SUBJECTS[template])
        self.plan.append(_Planned(date, time, len(self.plan), contact, template, values))


def load_interactions(session: Session, demo: Demo, today: dt.date) -> None:
    """Log the year's history in date order, then cancel a few entries."""
    planner = _Planner(demo, today)
    _everyday(planner)
    _meetings(planner)
    _newsletters(planner)
    _campaigns(planner)
    _documents(planner)
    logged = []
    for item in sorted(planner.plan):
        if item.document is not None:
            result = documents.log_document(session, item.document, user_id=USER_ID)
            if isinstance(result, documents.NotLogged):
                continue
            # A document event is logged "now"; the demo dates it back to when it was sent.
            result.date, result.time_of_interaction = item.date, item.time
            demo.logged += 1
            continue
        entry = create_interaction(session, InteractionCreate(
            contact_no=item.contact.no, interaction_template_code=item.template,
            date=item.date, time_of_interaction=item.time, **item.values,
        ), user_id=USER_ID)
        logged.append(entry)
        demo.logged += 1
    for campaign in demo.campaigns:
        if campaigns.target_groups(session, campaign.no) or not _targets(logged, campaign.no):
            continue
        campaigns.activate(session, campaign.no)
    _postponed(session, planner)
    canceled = planner.rng.sample(logged, k=round(len(logged) * CANCELED_SHARE))
    if canceled:
        operations.cancel(session, CancelRequest(entry_nos=sorted(e.entry_no for e in canceled)))
    demo.canceled = len(canceled)


def _targets(entries: list[Any], campaign_no: str) -> bool:
    return any(e.campaign_no == campaign_no and e.campaign_target for e in entries)


def _everyday(p: _Planner) -> None:
    rng = p.rng
    for template, count in EVERYDAY.items():
        for _ in range(count):
            email = template in ("EMAIL", "EMAIL-IN")
            contact = p.contact(email=email, language="ENU" if template == "LTR-DOCX" else "")
            values: dict[str, Any] = {}
            if template.endswith("CALL"):
                values["duration_min"] = Decimal(rng.randint(2, 25))
                if template == "OUT-CALL" and rng.random() < FAILED_CALLS:
                    values.update(successful=False, duration_min=Decimal(1), description="No answer")
                elif (evaluation := p.evaluation(0.3)) is not None:
                    values["evaluation"] = evaluation
            p.add(p.day(), p.time(), contact, template, **values)


def _meetings(p: _Planner) -> None:
    """Each meeting is announced by an invitation and often followed by a written abstract."""
    rng = p.rng
    for _ in range(MEETINGS):
        contact = p.contact()
        day = p.day()
        salesperson = p.salesperson(contact)
        invited = p.workday(day - dt.timedelta(days=rng.randint(3, 14)), -1)
        if invited >= p.workdays[0] and contact.email:
            p.add(invited, p.time(), contact, "MEETINV", salesperson_code=salesperson)
        values: dict[str, Any] = {"duration_min": Decimal(rng.choice((45, 60, 90, 120, 150)))}
        if rng.random() < 0.3:  # travel adds to the cost
            values["cost"] = Decimal(45 + rng.choice((20, 35, 60, 120)))
        if (evaluation := p.evaluation(0.85)) is not None:
            values["evaluation"] = evaluation
        if rng.random() < 0.2:
            values["comments"] = [CommentIn(date=day, comment=rng.choice(MEETING_NOTES))]
        p.add(day, p.time(9, 15), contact, "MEETING", salesperson_code=salesperson, **values)
        after = p.workday(day + dt.timedelta(days=rng.randint(0, 2)), 1)
        if after <= p.today and rng.random() < 0.6:
            p.add(after, p.time(), contact, "ABSTRACT", salesperson_code=salesperson)


def _newsletters(p: _Planner) -> None:
    readers = [c for c in p.demo.subscribers if c.email and not c.privacy_blocked]
    for i in range(NEWSLETTERS):
        day = p.workdays[(i * len(p.workdays)) // NEWSLETTERS]
        for contact in p.rng.sample(readers, k=min(NEWSLETTER_READERS, len(readers))):
            p.add(day, dt.time(7, 30), contact, "EMAIL-NEWS")


def _campaigns(p: _Planner) -> None:
    """The spring trade fair invites by letter and call; the Christmas promotion by newsletter."""
    rng = p.rng
    for i, campaign in enumerate(p.demo.campaigns):
        start, end = campaign.starting_date, min(campaign.ending_date or p.today, p.today)
        if start is None or start > end:
            continue  # still to come
        no = campaign.no
        invite = ("BUS", "OUT-CALL") if i == 0 else ("EMAIL-NEWS", "OUT-CALL")
        for _ in range(40):
            template = rng.choice(invite)
            contact = p.contact(email=template == "EMAIL-NEWS")
            p.add(p.day(start, end), p.time(), contact, template, campaign_no=no, campaign_target=True,
                  description="Invitation to our trade fair stand" if i == 0 else "Christmas offer")
        for _ in range(15):
            contact = p.contact()
            template = rng.choice(("IN-CALL", "EMAIL-IN")) if contact.email else "IN-CALL"
            p.add(p.day(start, end), p.time(), contact, template, campaign_no=no, campaign_response=True,
                  description="Accepted the invitation" if i == 0 else "Ordered from the Christmas offer",
                  evaluation=rng.choice((Evaluation.POSITIVE, Evaluation.VERY_POSITIVE)))
        if i == 0:
            for _ in range(10):
                contact = p.contact()
                p.add(p.day(start, end), p.time(9, 16), contact, "MEETING", campaign_no=no,
                      description="Meeting at the trade fair stand", duration_min=Decimal(30),
                      evaluation=p.evaluation(1.0))


def _documents(p: _Planner) -> None:
    for document_type, count, first_no in DOCUMENTS:
        accounts = p.demo.vendors if document_type == DocumentType.PURCHASE_INVOICE else p.demo.customers
        if not accounts:
            continue
        for i in range(count):
            account_no, company = p.rng.choice(accounts)
            event = DocumentEvent(
                document_type=document_type, document_no=str(first_no + i),
                salesperson_code=company.salesperson_code or None,
                **({"vendor_no": account_no} if account_no.startswith("V") else {"customer_no": account_no}),
            )
            planned = _Planned(p.day(), p.time(), len(p.plan), company, "", document=event)
            p.plan.append(planned)


def _postponed(session: Session, p: _Planner) -> None:
    """Drafts put aside in the last two weeks, waiting to be finished."""
    recent = [d for d in p.workdays if d >= p.today - dt.timedelta(days=14)] or p.workdays[-1:]
    for _ in range(POSTPONED):
        template = p.rng.choice(("MEETINV", "EMAIL", "BUS"))
        contact = p.contact(email=template != "BUS")
        create_interaction(session, InteractionCreate(
            contact_no=contact.no, interaction_template_code=template, date=p.rng.choice(recent),
            time_of_interaction=p.time(), salesperson_code=p.salesperson(contact), postpone=True,
            description=p.rng.choice(SUBJECTS.get(template, ("Invitation to a meeting",))),
        ), user_id=USER_ID)
        p.demo.postponed += 1
