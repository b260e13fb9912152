"""Demo setup, code tables and contacts: a small trading company's customers, vendors and partners."""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy.orm import Session

from rapport.core import contacts, masterdata, setup
from rapport.core.contacts import BusinessRelationLink, Contact, ContactCreate, ProfileAnswerLink
from rapport.core.enums import ContactType, CorrespondenceType, LinkToTable
from rapport.core.masterdata import AnswerIn, QuestionnaireCreate
from rapport.core.setup import MarketingSetupUpdate, NumberSeriesCreate
from rapport.demo.state import HOME_DOMAIN, Demo, ensure


def _split(values: str) -> tuple[str, ...]:
    return tuple(values.split("|"))


LANGUAGES = (("ENU", "English"), ("FRA", "French"), ("ITA", "Italian"), ("RUS", "Russian"),
             ("DEU", "German"))
NUMBER_SERIES = (("CONT", "Contacts", "CT000001", "CT999999"),
                 ("SEG", "Segments", "SEG00001", "SEG99999"),
                 ("CAMP", "Campaigns", "CP0001", "CP9999"))
SALESPEOPLE = (("AH", "Annette Hill"), ("JR", "James Roberts"), ("CL", "Claire Lefèvre"),
               ("MR", "Marco Rinaldi"), ("NS", "Natalia Sokolova"), ("KW", "Katrin Weiß"))
MAILING_GROUPS = (("NEWS", "Newsletter"), ("XMAS", "Christmas card"),
                  ("EVENTS", "Event invitations"), ("PARTNER", "Partner programme"))
INDUSTRY_GROUPS = (("RETAIL", "Retail"), ("WHOLESALE", "Wholesale"),
                   ("MANUFACT", "Manufacturing"), ("SERVICES", "Professional services"),
                   ("PUBLIC", "Public sector"), ("FINANCE", "Banking and finance"),
                   ("MEDIA", "Press and media"))
COMMERCIAL = ("RETAIL", "WHOLESALE", "MANUFACT", "SERVICES")
JOBS = (("CEO", "Management"), ("PURCHASE", "Purchasing"), ("SALES", "Sales"),
        ("MARKETING", "Marketing"), ("FINANCE", "Finance"), ("IT", "Information technology"))
BUSINESS_RELATIONS = (("CUST", "Customer"), ("VEND", "Vendor"), ("PROS", "Prospect"),
                      ("BANK", "Bank"), ("PRESS", "Press"))
QUESTIONNAIRES = (
    ("COMPANY", "Company size and interest", (
        ("SMALL", "Fewer than 50 employees"), ("MEDIUM", "50 to 249 employees"),
        ("LARGE", "250 employees or more"), ("HIGHINT", "High interest in our range"),
        ("LOWINT", "Low interest in our range"))),
    ("SATISFY", "Customer satisfaction", (("VSAT", "Very satisfied"), ("SAT", "Satisfied"),
                                          ("NEUTRAL", "Neutral"), ("UNSAT", "Unsatisfied"))),
)


@dataclass(frozen=True)
class _Country:
    """What makes a contact of one country look local: names, places, numbers, titles."""

    code: str
    language: str
    salespeople: tuple[str, ...]
    companies: int
    dial: str
    mobile: str  # '#' any digit, '%' a digit from 1, '@' a post code letter
    mailbox: str
    address: str
    cities: tuple[tuple[str, str, str], ...]  # city, post code pattern, phone pattern
    streets: tuple[str, ...]
    male: tuple[str, ...]
    female: tuple[str, ...]
    last: tuple[str, ...]
    forms: tuple[str, ...]
    names: tuple[str, ...]  # by INDUSTRIES; {n} a surname, {c} a city
    titles: tuple[str, ...]  # by JOBS


INDUSTRIES = tuple(code for code, _ in INDUSTRY_GROUPS)
COUNTRIES = (
    _Country(
        "GB", "ENU", ("AH", "JR"), 16, "+44", "7700 900###", "enquiries", "{no} {street}",
        (("London", "EC% %@@", "20 7946 0###"), ("Manchester", "M% %@@", "161 496 0###"),
         ("Leeds", "LS% %@@", "113 496 0###"), ("Edinburgh", "EH% %@@", "131 496 0###")),
        _split("High Street|Station Road|Church Lane|Victoria Road|Mill Lane|King Street"),
        _split("James|Oliver|Thomas|William|Harry|George|Daniel|Samuel|Matthew|Jack"),
        _split("Emma|Olivia|Sophie|Charlotte|Amelia|Jessica|Hannah|Lucy|Grace|Chloe"),
        _split("Smith|Jones|Taylor|Wilson|Evans|Thompson|Wright|Hughes|Hartley|Clarke|O'Brien"),
        ("{} Ltd", "{} plc"),
        _split("{n} Home Stores|{n} & Sons Wholesale|{n} Engineering|{n} Consulting"
               "|{c} City Council|{n} Bank|{c} Evening Post"),
        _split("Managing Director|Purchasing Manager|Sales Manager|Marketing Manager"
               "|Finance Director|IT Manager"),
    ),
    _Country(
        "FR", "FRA", ("CL",), 12, "+33", "6 39 98 ## ##", "contact", "{no} {street}",
        (("Paris", "7500%", "1 99 00 ## ##"), ("Lyon", "6900%", "4 65 71 ## ##"),
         ("Lille", "59000", "3 53 01 ## ##"), ("Bordeaux", "33000", "5 36 49 ## ##")),
        _split("rue de la République|avenue Jean Jaurès|place de l'Église|rue des Écoles"),
        _split("Jean|Pierre|François|Étienne|Julien|Nicolas|Thierry|Sébastien|Jérôme|Olivier"),
        _split("Marie|Hélène|Céline|Élodie|Camille|Amélie|Nathalie|Sophie|Chloé|Anaïs"),
        _split("Martin|Bernard|Dubois|Lefèvre|Moreau|Laurent|Rousseau|Mercier|Lemaître|Bélanger"),
        ("{} SARL", "{} SAS", "{} SA"),
        _split("Maison {n}|{n} Distribution|Ateliers {n}|{n} Conseil|Mairie de {c}|Banque {n}"
               "|Le Journal de {c}"),
        _split("Direction générale|Responsable des achats|Direction commerciale"
               "|Responsable marketing|Direction financière|Responsable informatique"),
    ),
    _Country(
        "IT", "ITA", ("MR",), 11, "+39", "3## ### ####", "info", "{street}, {no}",
        (("Milano", "201##", "02 #### ####"), ("Roma", "001##", "06 #### ####"),
         ("Torino", "101##", "011 ### ####"), ("Firenze", "501##", "055 ### ####")),
        _split("Via Roma|Corso Garibaldi|Via Giuseppe Verdi|Piazza del Duomo|Viale della Libertà"),
        _split("Marco|Luca|Giuseppe|Alessandro|Matteo|Francesco|Andrea|Nicolò|Davide|Stefano"),
        _split("Giulia|Francesca|Chiara|Sara|Valentina|Elena|Federica|Alessia|Martina|Silvia"),
        _split("Rossi|Russo|Ferrari|Esposito|Bianchi|Romano|Ricci|Greco|Conti|De Luca|Fabbri"),
        ("{} S.r.l.", "{} S.p.A."),
        _split("Magazzini {n}|{n} Ingrosso|Officine {n}|{n} Consulenze|Comune di {c}|Banca {n}"
               "|Il Corriere di {c}"),
        _split("Amministratore delegato|Responsabile acquisti|Responsabile vendite"
               "|Responsabile marketing|Responsabile amministrativo|Responsabile IT"),
    ),
    _Country(
        "RU", "RUS", ("NS",), 10, "+7", "9## ###-##-##", "info", "{street}, д. {no}",
        (("Москва", "1290##", "495 ###-##-##"), ("Санкт-Петербург", "1900##", "812 ###-##-##"),
         ("Казань", "4200##", "843 ###-##-##"), ("Екатеринбург", "6200##", "343 ###-##-##")),
        _split("ул. Ленина|пр. Мира|ул. Пушкина|Садовая ул.|ул. Гагарина|Набережная ул."),
        _split("Александр|Дмитрий|Сергей|Андрей|Алексей|Иван|Михаил|Николай|Владимир|Павел"),
        _split("Анна|Елена|Ольга|Наталья|Татьяна|Мария|Екатерина|Ирина|Светлана|Юлия"),
        _split("Иванов|Смирнов|Кузнецов|Соколов|Лебедев|Козлов|Новиков|Морозов|Соловьёв|Зайцев"),
        _split("ООО «{}»|АО «{}»"),  # noqa: RUF001 (Cyrillic on purpose, as in all of RU)
        _split("Торговый дом {n}|{n} Опт|Завод {n}|{n} Консалтинг|Администрация г. {c}"  # noqa: RUF001
               "|Банк {n}|Газета «{c} сегодня»"),
        _split("Генеральный директор|Менеджер по закупкам|Коммерческий директор"
               "|Директор по маркетингу|Финансовый директор|Руководитель ИТ-отдела"),
    ),
    _Country(
        "DE", "DEU", ("KW",), 13, "+49", "152 2889 ####", "kontakt", "{street} {no}",
        (("Berlin", "10%##", "30 23125 ###"), ("München", "80%##", "89 99998 ###"),
         ("Köln", "50%##", "221 4710 ###"), ("Frankfurt am Main", "603##", "69 90009 ###")),
        _split("Hauptstraße|Bahnhofstraße|Schillerstraße|Goethestraße|Lindenallee|Am Marktplatz"),
        _split("Thomas|Michael|Andreas|Stefan|Jürgen|Klaus|Markus|Tobias|Jörg|Lukas"),
        _split("Sabine|Petra|Claudia|Julia|Anna|Katharina|Monika|Jana|Lena|Ursula"),
        _split("Müller|Schmidt|Schneider|Fischer|Weber|Meyer|Becker|Hoffmann|Schäfer|Krüger|Weiß"),
        ("{} GmbH", "{} AG", "{} GmbH & Co. KG"),
        _split("Kaufhaus {n}|{n} Großhandel|{n} Maschinenbau|{n} Beratung|Stadtverwaltung {c}"
               "|{n} Privatbank|Tageblatt {c}"),
        _split("Geschäftsführung|Leitung Einkauf|Vertriebsleitung|Leitung Marketing"
               "|Leitung Finanzen|Leitung IT"),
    ),
)
STAND_ALONE_PERSONS = 10
MINORS = 2
MAIL_PROVIDERS = ("inbox.example", "webpost.example")

_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    _split("a|b|v|g|d|e|e|zh|z|i|y|k|l|m|n|o|p|r|s|t|u|f|kh|ts|ch|sh|shch||y||e|yu|ya"),
    strict=True,
))
_FILL = {"#": "0123456789", "%": "123456789", "@": "ABDEFGHJLNPQRSTUWXYZ"}
_GERMAN = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}


def load_contacts(session: Session, demo: Demo) -> None:
    """Setup, salespeople, the code tables and the contacts."""
    _setup(session, demo)
    _salespeople(session, demo)
    _dimensions(session, demo)
    _contacts(session, demo)


# --- setup and code tables -----------------------------------------------------------------


def _setup(session: Session, demo: Demo) -> None:
    for code, name in LANGUAGES:
        ensure(session, demo, masterdata.Language, "Language", {"code": code, "name": name})
    for code, description, first, last in NUMBER_SERIES:
        if session.get(setup.NumberSeries, code) is None:
            setup.create_number_series(session, NumberSeriesCreate(
                code=code, description=description, starting_no=first, ending_no=last,
            ))
    demo.records.append(setup.update_marketing_setup(session, MarketingSetupUpdate(
        contact_nos="CONT", segment_nos="SEG", campaign_nos="CAMP", default_language_code="ENU",
        default_correspondence_type=CorrespondenceType.EMAIL, default_country_code="GB",
    )))


def _salespeople(session: Session, demo: Demo) -> None:
    for i, (code, name) in enumerate(SALESPEOPLE, 1):
        email = f"{_ascii(name).replace(' ', '.')}@{HOME_DOMAIN}"
        # Ofcom keeps 020 7946 0xxx for drama, like every GB number here.
        values = {"code": code, "name": name, "email": email, "phone_no": f"+44 20 7946 01{i:02d}"}
        ensure(session, demo, masterdata.Salesperson, "Salesperson", values)


def _dimensions(session: Session, demo: Demo) -> None:
    for kind, rows in (("mailing-groups", MAILING_GROUPS), ("industry-groups", INDUSTRY_GROUPS),
                       ("job-responsibilities", JOBS), ("business-relations", BUSINESS_RELATIONS)):
        model, what = masterdata.DIMENSIONS[kind]
        for code, description in rows:
            ensure(session, demo, model, what, {"code": code, "description": description})
    for code, description, answers in QUESTIONNAIRES:
        if session.get(masterdata.ProfileQuestionnaire, code) is None:
            masterdata.create_questionnaire(session, QuestionnaireCreate(
                code=code, description=description,
                answers=[AnswerIn(answer_code=a, description=d) for a, d in answers],
            ))
        demo.records += masterdata.questionnaire_answers(session, code)


# --- contacts ------------------------------------------------------------------------------


def _contacts(session: Session, demo: Demo) -> None:
    taken: set[str] = set()
    for country in COUNTRIES:
        # Every country has a bank, a newspaper and a public body; the rest is trade.
        industries = ["FINANCE", "MEDIA", "PUBLIC"]
        industries += demo.rng.choices(COMMERCIAL, k=country.companies - len(industries))
        demo.rng.shuffle(industries)
        for i, industry in enumerate(industries):
            salesperson = country.salespeople[i % len(country.salespeople)]
            company, domain = _company(session, demo, country, industry, salesperson, taken)
            relations = _classify(session, demo, company, industry)
            _persons(session, demo, country, company, domain, partner="VEND" in relations)
    _stand_alone_persons(session, demo)


def _company(session: Session, demo: Demo, country: _Country, industry: str, salesperson: str,
             taken: set[str]) -> tuple[Contact, str]:
    rng = demo.rng
    while True:
        city, post_code, phone = rng.choice(country.cities)
        stem = country.names[INDUSTRIES.index(industry)].format(n=rng.choice(country.last), c=city)
        if stem not in taken:
            break
    taken.add(stem)
    name = stem if industry in ("PUBLIC", "MEDIA") else rng.choice(country.forms).format(stem)
    domain = f"{_slug(stem)}.example"
    company = contacts.create_contact(session, ContactCreate(
        type=ContactType.COMPANY, name=name, address=_address(rng, country),
        post_code=_fill(rng, post_code), city=city, country_code=country.code,
        phone_no=f"{country.dial} {_fill(rng, phone)}", email=f"{country.mailbox}@{domain}",
        language_code=country.language, salesperson_code=salesperson,
    ))
    demo.companies.append(company)
    return company, domain


def _classify(session: Session, demo: Demo, company: Contact, industry: str) -> list[str]:
    rng = demo.rng
    groups = [industry]
    if industry in ("RETAIL", "WHOLESALE") and rng.random() < 0.25:
        groups.append("WHOLESALE" if industry == "RETAIL" else "RETAIL")
    contacts.set_assigned_codes(session, company.no, "industry-groups", groups)

    links: list[BusinessRelationLink] = []
    roll = rng.random()
    if industry == "FINANCE":
        links.append(_link(demo, "BANK", LinkToTable.BANK_ACCOUNT, "B"))
    elif industry == "MEDIA":
        links.append(_link(demo, "PRESS"))
    elif roll < 0.6:
        links.append(_link(demo, "CUST", LinkToTable.CUSTOMER, "C"))
    elif roll < 0.85 or industry == "PUBLIC":
        links.append(_link(demo, "PROS"))
    if (roll >= 0.85 and industry != "PUBLIC") or (industry == "MANUFACT" and roll < 0.15):
        links.append(_link(demo, "VEND", LinkToTable.VENDOR, "V"))
    contacts.set_business_relations(session, company.no, links)
    for link in links:
        if link.link_to_table == LinkToTable.CUSTOMER:
            demo.customers.append((link.link_no, company))
        elif link.link_to_table == LinkToTable.VENDOR:
            demo.vendors.append((link.link_no, company))

    answers = [("COMPANY", rng.choice(("SMALL", "SMALL", "MEDIUM", "LARGE"))),
               ("COMPANY", "HIGHINT" if rng.random() < 0.4 else "LOWINT")]
    if links and links[0].business_relation_code == "CUST":
        answers.append(("SATISFY", rng.choice(("VSAT", "SAT", "SAT", "NEUTRAL", "UNSAT"))))
    contacts.set_profile_answers(session, company.no, [
        ProfileAnswerLink(questionnaire_code=q, answer_code=a) for q, a in answers
    ])
    return [link.business_relation_code for link in links]


def _persons(session: Session, demo: Demo, country: _Country, company: Contact, domain: str,
             partner: bool) -> None:
    rng = demo.rng
    # Each company has its head, and one to five people in other roles.
    jobs = [0, *rng.sample(range(1, len(JOBS)), k=rng.randint(1, len(JOBS) - 1))]
    names: set[str] = set()
    for job in jobs:
        first, last = _person_name(rng, country, names)
        has_email = rng.random() > 0.06
        mobile = rng.random() < 0.5
        person = contacts.create_contact(session, ContactCreate(
            type=ContactType.PERSON, name=f"{first} {last}", company_no=company.no,
            job_title=country.titles[job],
            email=_email(first, last, domain) if has_email else None,
            mobile_phone_no=f"{country.dial} {_fill(rng, country.mobile)}" if mobile else None,
            correspondence_type=None if has_email else CorrespondenceType.HARD_COPY,
            exclude_from_segment=rng.random() < 0.025,
        ))
        demo.persons.append(person)
        code = JOBS[job][0]
        groups = [g for g, wanted in (
            ("NEWS", has_email and rng.random() < 0.6),
            ("XMAS", code == "CEO" or rng.random() < 0.15),
            ("EVENTS", rng.random() < 0.3),
            ("PARTNER", partner and code in ("CEO", "PURCHASE", "SALES")),
        ) if wanted]
        if groups:
            contacts.set_assigned_codes(session, person.no, "mailing-groups", groups)
        if "NEWS" in groups:
            demo.subscribers.append(person)
        duties = [code, "SALES"] if code == "CEO" and rng.random() < 0.3 else [code]
        contacts.set_assigned_codes(session, person.no, "job-responsibilities", duties)


def _stand_alone_persons(session: Session, demo: Demo) -> None:
    rng = demo.rng
    minors = set(rng.sample(range(STAND_ALONE_PERSONS), MINORS))
    for i in range(STAND_ALONE_PERSONS):
        country = rng.choice(COUNTRIES)
        first, last = _person_name(rng, country, set())
        city, post_code, phone = rng.choice(country.cities)
        person = contacts.create_contact(session, ContactCreate(
            type=ContactType.PERSON, name=f"{first} {last}", address=_address(rng, country),
            post_code=_fill(rng, post_code), city=city, country_code=country.code,
            phone_no=f"{country.dial} {_fill(rng, phone)}",
            email=_email(first, last, rng.choice(MAIL_PROVIDERS)),
            language_code=country.language, salesperson_code=country.salespeople[0],
            minor=i in minors,
        ))
        demo.persons.append(person)
        if i not in minors:
            contacts.set_assigned_codes(session, person.no, "mailing-groups", ["NEWS"])
            demo.subscribers.append(person)


def _link(
    demo: Demo, code: str, table: LinkToTable = LinkToTable.BLANK, prefix: str = ""
) -> BusinessRelationLink:
    """A business relation; a linked one gets the next number of its table: C00010, C00020."""
    if table:
        demo.linked[table] += 10
    no = f"{prefix}{demo.linked[table]:05d}" if table else ""
    return BusinessRelationLink(business_relation_code=code, link_to_table=table, link_no=no)


def _person_name(rng: random.Random, country: _Country, taken: set[str]) -> tuple[str, str]:
    while True:
        female = rng.random() < 0.5
        first = rng.choice(country.female if female else country.male)
        last = rng.choice(country.last)
        if female and country.code == "RU":
            last += "а"  # noqa: RUF001 (Cyrillic: Иванов -> Иванова)
        if f"{first} {last}" not in taken:
            taken.add(f"{first} {last}")
            return first, last


def _address(rng: random.Random, country: _Country) -> str:
    return country.address.format(no=rng.randint(1, 180), street=rng.choice(country.streets))


def _fill(rng: random.Random, pattern: str) -> str:
    return "".join(rng.choice(_FILL[ch]) if ch in _FILL else ch for ch in pattern)


def _ascii(text: str) -> str:
    """Lower-case ASCII spelling: Müller -> mueller, Hélène -> helene, Иванов -> ivanov."""
    text = "".join(_GERMAN.get(ch, _CYRILLIC.get(ch, ch)) for ch in text.lower())
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _email(first: str, last: str, domain: str) -> str:
    return f"{_slug(first, '')}.{_slug(last, '')}@{domain}"


def _slug(text: str, sep: str = "-") -> str:
    return re.sub(r"[^a-z0-9]+", sep, _ascii(text)).strip("-")
