"""Filter expressions on SQLite and PostgreSQL: syntax, typing, errors, and a reference model."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from rapport.errors import Invalid
from rapport.filters import (
    And,
    Compare,
    FieldKind,
    FieldSpec,
    Or,
    Range,
    Value,
    Wildcard,
    compile_filter,
    compile_filters,
    field_specs,
    parse,
)

TODAY = date(2026, 3, 15)
CHANNELS = {"": " ", "hard_copy": "Hard Copy", "email": "Email", "very_positive": "Very Positive"}

metadata = MetaData()
probe = Table(
    "filter_probe",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(40), nullable=False, default=""),
    Column("country_code", String(20), nullable=False, default=""),
    Column("amount", Integer, nullable=False, default=0),
    Column("price", Numeric(18, 4), nullable=False, default=0),
    Column("day", Date, nullable=True),
    Column("active", Boolean, nullable=False, default=False),
    Column("channel", String(20), nullable=False, default=""),
    Column("created_at", DateTime, nullable=True),
)
SPECS = field_specs(probe, enums={"channel": CHANNELS})


@pytest.fixture(scope="module")
def db(engine: Engine) -> Iterator[Engine]:
    """The backend's engine with the probe table; every query below rolls its rows back."""
    metadata.create_all(engine)
    yield engine
    metadata.drop_all(engine)


def ids(db: Engine, rows: Sequence[Mapping[str, Any]], *conditions: Any) -> list[int]:
    """Insert `rows` (ids 0, 1, ...), select the ids meeting `conditions`, roll back."""
    with db.connect() as conn:
        if rows:
            conn.execute(probe.insert(), [{"id": i, **row} for i, row in enumerate(rows)])
        found = conn.scalars(select(probe.c.id).where(*conditions).order_by(probe.c.id)).all()
        conn.rollback()
    return list(found)


def matching(
    db: Engine, field: str, values: Sequence[Any], expression: str, today: date | None = TODAY
) -> list[Any]:
    """The values of `field` that `expression` selects, in the order given."""
    condition = compile_filter(SPECS[field], expression, today=today)
    return [values[i] for i in ids(db, [{field: v} for v in values], condition)]


def error(field: str, expression: str) -> Invalid:
    with pytest.raises(Invalid) as caught:
        compile_filter(SPECS[field], expression, today=TODAY)
    assert caught.value.field == field
    return caught.value


# --- syntax ---------------------------------------------------------------------------------------


def test_a_plain_value_means_equal(db: Engine) -> None:
    assert matching(db, "name", ["Paris", "Paris ", "Parisian", ""], "Paris") == ["Paris"]


def test_a_range_includes_both_ends(db: Engine) -> None:
    amounts = [999, 1000, 1500, 1999, 2000]
    assert matching(db, "amount", amounts, "1000..1999") == [1000, 1500, 1999]
    days = [date(2025, 12, 31), date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 1)]
    assert matching(db, "day", days, "2026-01-01..2026-03-31") == days[1:3]


def test_an_open_range_runs_from_or_up_to_its_one_end(db: Engine) -> None:
    assert matching(db, "amount", [1, 2, 3], "2..") == [2, 3]
    assert matching(db, "amount", [1, 2, 3], "..2") == [1, 2]
    days = [date(2026, 5, 31), date(2026, 6, 1), date(2026, 7, 1)]
    assert matching(db, "day", days, "2026-06-01..") == days[1:]


def test_a_bar_means_any_of(db: Engine) -> None:
    assert matching(db, "country_code", ["FR", "BE", "DE", "CH"], "FR|BE|CH") == ["FR", "BE", "CH"]


def test_not_equal_also_matches_a_blank_text(db: Engine) -> None:
    assert matching(db, "name", ["Paris", "Lyon", ""], "<>Paris") == ["Lyon", ""]
    assert matching(db, "name", ["Paris", "Lyon", ""], "<>''") == ["Paris", "Lyon"]


@pytest.mark.parametrize(
    ("expression", "expected"), [("<2", [1]), ("<=2", [1, 2]), (">2", [3]), (">=2", [2, 3])]
)
def test_comparisons_include_the_value_only_with_an_equal_sign(
    db: Engine, expression: str, expected: list[int]
) -> None:
    assert matching(db, "amount", [1, 2, 3], expression) == expected


def test_a_star_matches_any_run_and_a_question_mark_one_character(db: Engine) -> None:
    names = ["75001", "7500", "75", "A-C", "AC", "ABBC", "a-c"]
    assert matching(db, "name", names, "75*") == ["75001", "7500", "75"]
    assert matching(db, "name", names, "A?C") == ["A-C"]
    assert matching(db, "name", names, "A*C") == ["A-C", "AC", "ABBC"]
    assert matching(db, "name", names, "<>7*") == ["A-C", "AC", "ABBC", "a-c"]


def test_text_without_at_is_case_sensitive(db: Engine) -> None:
    names = ["Paris", "paris", "PARIS"]
    assert matching(db, "name", names, "paris") == ["paris"]
    assert matching(db, "name", names, "p*") == ["paris"]
    assert matching(db, "name", names, "*ARI*") == ["PARIS"]


def test_at_makes_a_match_case_insensitive_beyond_ascii(db: Engine) -> None:
    names = ["Müller GmbH", "MÜLLER AG", "Mueller", "paris"]
    assert matching(db, "name", names, "@*müller*") == ["Müller GmbH", "MÜLLER AG"]
    assert matching(db, "name", names, "@müller ag") == ["MÜLLER AG"]
    assert matching(db, "name", names, "@<>PARIS") == ["Müller GmbH", "MÜLLER AG", "Mueller"]
    assert matching(db, "name", names, "@M..N") == ["Müller GmbH", "MÜLLER AG", "Mueller"]


def test_two_quotes_are_the_empty_value(db: Engine) -> None:
    assert matching(db, "name", ["", "x", " "], "''") == [""]


def test_quoted_text_holds_operator_characters_and_outer_spaces(db: Engine) -> None:
    names = ["A|B Ltd", "A", "x&y (1) <2>", "a.b", "@home", " padded ", "padded", "*?"]
    for name in names:
        written = "'" + name + "'"
        assert matching(db, "name", names, written) == [name], written


def test_quoted_text_escapes_the_pattern_characters_of_the_database(db: Engine) -> None:
    names = ["a_b", "axb", "50%", "500", "a*b", "a?b", "[ab]", "b", "a\\b", "a\\\\b"]
    assert matching(db, "name", names, "'a_'*") == ["a_b"]
    assert matching(db, "name", names, "*'%'") == ["50%"]
    assert matching(db, "name", names, "'a*'*") == ["a*b"]
    assert matching(db, "name", names, "'a?'?") == ["a?b"]
    assert matching(db, "name", names, "'[ab]'*") == ["[ab]"]
    assert matching(db, "name", names, "a\\?") == ["a\\b"]


def test_two_quotes_inside_quotes_are_one_quote(db: Engine) -> None:
    names = ["O'Brien", "OBrien", "O''Brien"]
    assert matching(db, "name", names, "'O''Brien'") == ["O'Brien"]
    assert matching(db, "name", names, "'O'''B*") == ["O'Brien"]


def test_an_ampersand_means_both(db: Engine) -> None:
    assert matching(db, "amount", [50, 100, 150, 200, 250], ">=100&<=200") == [100, 150, 200]


def test_parentheses_group(db: Engine) -> None:
    names = ["Az", "Bz", "Cz", "Ay"]
    assert matching(db, "name", names, "(A*|B*)&*z") == ["Az", "Bz"]
    assert matching(db, "country_code", ["FR", "BE", ""], "(FR|BE|'')&<>''") == ["FR", "BE"]


def test_an_ampersand_binds_tighter_than_a_bar(db: Engine) -> None:
    one, two, three = (Compare("=", Value((t,), p)) for t, p in (("1", 1), ("2", 3), ("3", 5)))
    assert parse("1|2&3", "amount") == Or((one, And((two, three))))
    assert matching(db, "amount", [1, 2, 3], "1|2&3") == [1]
    assert matching(db, "amount", [1, 2, 3], "(1|2)&3") == []


def test_white_space_around_operators_is_ignored_and_kept_inside_a_value(db: Engine) -> None:
    names = ["New York", "NewYork", "New  York", "Paris"]
    assert matching(db, "name", names, "  New York |  Paris ") == ["New York", "Paris"]
    assert matching(db, "amount", [1, 2, 3, 4], " >= 2 & <= 3 ") == [2, 3]
    assert matching(db, "amount", [1, 2, 3, 4], " 2 .. 3 | ( 4 ) ") == [2, 3, 4]
    assert parse(" a b ", "name") == Compare("=", Value(("a b",), 2))


def test_text_is_ordered_by_code_point_on_every_backend(db: Engine) -> None:
    names = ["B", "a", "Z", "é", "_", "b"]
    assert matching(db, "name", names, "<a") == ["B", "Z", "_"]
    assert matching(db, "name", names, "B..a") == ["B", "a", "Z", "_"]
    assert matching(db, "name", names, ">b") == ["é"]


def test_the_parser_builds_a_small_tree_of_nodes() -> None:
    assert parse("..5", "f") == Range(None, Value(("5",), 3))
    assert parse("@a*..", "f") == Range(Value(("a", Wildcard.ANY), 2, 3), None, True)
    assert parse("<>@'x|y'", "f") == Compare("<>", Value(("x|y",), 4), True)


def test_a_value_that_looks_like_sql_is_a_bound_parameter(db: Engine) -> None:
    for expression in ("'''; DROP TABLE filter_probe; --'", "x; DROP TABLE filter_probe; --"):
        condition = compile_filter(SPECS["name"], expression)
        assert "DROP" not in str(condition.compile(dialect=db.dialect))
        assert ids(db, [{"name": "Paris"}], condition) == []
    assert "unterminated quote" in error("name", "'; DROP TABLE filter_probe; --").message
    assert ids(db, [{"name": "Paris"}]) == [0]  # the table is still there


def test_a_cached_statement_binds_each_new_pattern(db: Engine) -> None:
    names = ["Anna", "Bert", "anna"]
    for expression, expected in [("A*", ["Anna"]), ("B*", ["Bert"]), ("@a*", ["Anna", "anna"])]:
        assert matching(db, "name", names, expression) == expected


# --- typing ---------------------------------------------------------------------------------------


def test_code_values_are_compared_upper_case(db: Engine) -> None:
    codes = ["FR", "BE", "DE"]
    assert matching(db, "country_code", codes, "fr|Be") == ["FR", "BE"]
    assert matching(db, "country_code", codes, "f*") == ["FR"]
    assert matching(db, "country_code", codes, "a..de") == ["BE", "DE"]
    assert matching(db, "country_code", codes, "@fr") == ["FR"]


def test_integers_compare_as_numbers(db: Engine) -> None:
    assert matching(db, "amount", [2, 10, 100, -7], "<10") == [2, -7]
    assert matching(db, "amount", [2, 10, 100, -7], "+10|-7") == [10, -7]
    assert matching(db, "amount", [2, 10, 100, -7], "-5..5") == [2]


def test_decimals_compare_as_numbers(db: Engine) -> None:
    prices = [Decimal("12.5"), Decimal("12.05"), Decimal("2"), Decimal("0.25")]
    assert matching(db, "price", prices, "12.5") == [Decimal("12.5")]
    assert matching(db, "price", prices, "12.50|2") == [Decimal("12.5"), Decimal("2")]
    assert matching(db, "price", prices, ">2") == [Decimal("12.5"), Decimal("12.05")]
    assert matching(db, "price", prices, ".25..12.05") == prices[1:]


def test_dates_are_iso_or_today(db: Engine) -> None:
    days = [TODAY - timedelta(1), TODAY, TODAY + timedelta(1), None]
    assert matching(db, "day", days, "t") == [TODAY]
    assert matching(db, "day", days, "TODAY") == [TODAY]
    assert matching(db, "day", days, "2026-03-14") == [TODAY - timedelta(1)]
    assert matching(db, "day", days, "t..") == [TODAY, TODAY + timedelta(1)]
    assert matching(db, "day", [date.today()], "today", today=None) == [date.today()]


def test_a_blank_date_is_written_as_two_quotes(db: Engine) -> None:
    days = [TODAY, None]
    assert matching(db, "day", days, "''") == [None]
    assert matching(db, "day", days, "<>''") == [TODAY]
    assert matching(db, "day", days, "<>2026-03-15") == [None]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("true", [True]),
        ("Yes", [True]),
        ("1", [True]),
        ("FALSE", [False]),
        ("no", [False]),
        ("0", [False]),
        ("<>true", [False]),
        ("true|false", [True, False]),
    ],
)
def test_booleans_are_true_false_yes_no_or_one_zero(
    db: Engine, expression: str, expected: list[bool]
) -> None:
    assert matching(db, "active", [True, False], expression) == expected


def test_enums_take_the_api_value_or_the_caption_in_any_case(db: Engine) -> None:
    values = list(CHANNELS)
    assert matching(db, "channel", values, "email") == ["email"]
    assert matching(db, "channel", values, "Hard Copy|VERY_POSITIVE") == [
        "hard_copy",
        "very_positive",
    ]
    assert matching(db, "channel", values, "hard copy") == ["hard_copy"]
    assert matching(db, "channel", values, "''") == [""]
    assert matching(db, "channel", values, "<>''") == ["hard_copy", "email", "very_positive"]


def test_enum_ranges_follow_the_declared_order(db: Engine) -> None:
    values = list(CHANNELS)
    assert matching(db, "channel", values, "Hard Copy..email") == ["hard_copy", "email"]
    assert matching(db, "channel", values, ">email") == ["very_positive"]
    assert matching(db, "channel", values, "<=hard_copy") == ["", "hard_copy"]


def test_field_specs_read_the_kinds_from_the_column_types() -> None:
    kinds = {name: spec.kind for name, spec in SPECS.items()}
    assert kinds == {
        "id": FieldKind.INTEGER,
        "name": FieldKind.TEXT,
        "country_code": FieldKind.CODE,
        "amount": FieldKind.INTEGER,
        "price": FieldKind.DECIMAL,
        "day": FieldKind.DATE,
        "active": FieldKind.BOOLEAN,
        "channel": FieldKind.ENUM,
    }
    assert SPECS["channel"].enum_values == CHANNELS
    assert SPECS["name"].column is probe.c.name


def test_field_specs_take_a_model_class_and_overrides() -> None:
    class Base(DeclarativeBase):
        pass

    class Contact(Base):
        __tablename__ = "contact_probe"
        no: Mapped[str] = mapped_column(String(20), primary_key=True)
        search_name: Mapped[str] = mapped_column(String(100))
        company_no: Mapped[str] = mapped_column(String(20))
        rate: Mapped[float] = mapped_column(Float)

    specs = field_specs(Contact, kinds={"search_name": FieldKind.CODE})
    assert {name: spec.kind for name, spec in specs.items()} == {
        "no": FieldKind.CODE,
        "search_name": FieldKind.CODE,
        "company_no": FieldKind.CODE,
        "rate": FieldKind.DECIMAL,
    }
    with pytest.raises(ValueError, match="no such columns: nmae"):
        field_specs(Contact, kinds={"nmae": FieldKind.TEXT})


def test_an_enum_spec_needs_its_values() -> None:
    with pytest.raises(ValueError, match="enum_values"):
        FieldSpec("channel", probe.c.channel, FieldKind.ENUM)


def test_compile_filters_gives_one_condition_per_field(db: Engine) -> None:
    rows = [
        {"name": "Anna", "amount": 1},
        {"name": "Anton", "amount": 5},
        {"name": "Bo", "amount": 9},
    ]
    conditions = compile_filters(SPECS, {"name": "An*", "amount": ">1"})
    assert len(conditions) == 2
    assert ids(db, rows, *conditions) == [1]


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("75*)", "unexpected ')' at position 4"),
        ("(FR|BE", "missing ')' at position 7"),
        ("FR|", "expected a value at position 4"),
        ("FR||BE", "unexpected '|' at position 4"),
        ("a&&b", "unexpected '&' at position 3"),
        ("<>", "expected a value at position 3"),
        ("..", "expected a value at position 3"),
        ("a..b..c", "unexpected '..' at position 5"),
        ("(a)b", "unexpected 'b' at position 4"),
        ("a (b)", "unexpected '(' at position 3"),
        ("@", "expected a value at position 2"),
        ("x|'abc", "unterminated quote (write a quote inside quotes as '') at position 3"),
    ],
)
def test_a_malformed_expression_is_an_error_that_points_at_the_problem(
    expression: str, message: str
) -> None:
    with pytest.raises(Invalid) as caught:
        parse(expression, "post_code")
    assert caught.value.message == f'post_code: {message} in "{expression}"'
    assert caught.value.field == "post_code"


@pytest.mark.parametrize(
    ("field", "expression", "message"),
    [
        ("amount", "abc", '"abc" is not a number at position 1'),
        ("amount", "1|12.5", '"12.5" is not a whole number at position 3'),
        ("amount", "<2147483648", '"2147483648" is out of range at position 2'),
        ("name", "a\x00b", "unexpected NUL character at position 2"),
        ("price", "1..x", '"x" is not a number at position 4'),
        ("price", "''", '"" is not a number at position 1'),
        ("amount", "1*", "wildcards are only allowed on text fields at position 2"),
        ("day", "2026-02-30", '"2026-02-30" is not a date (YYYY-MM-DD, t or today) at position 1'),
        ("day", "15.03.2026", '"15.03.2026" is not a date (YYYY-MM-DD, t or today) at position 1'),
        ("day", "<''", "'' can only be compared with = or <> at position 2"),
        ("day", "t..''", "'' cannot bound a range at position 4"),
        ("active", "maybe", '"maybe" is not a boolean (true/false, yes/no, 1/0) at position 1'),
        (
            "channel",
            "fax",
            "\"fax\" is not one of '', hard_copy, email, very_positive at position 1",
        ),
        ("name", "a*..b", "wildcards are only allowed in = and <> conditions at position 2"),
        ("name", ">= a?", "wildcards are only allowed in = and <> conditions at position 5"),
    ],
)
def test_a_value_of_the_wrong_type_is_an_error_that_points_at_it(
    field: str, expression: str, message: str
) -> None:
    assert error(field, expression).message == f'{field}: {message} in "{expression}"'


@pytest.mark.parametrize("expression", ["", "   "])
def test_an_empty_filter_is_an_error(expression: str) -> None:
    assert error("name", expression).message == "name: empty filter"


def test_an_unknown_field_is_an_error_that_lists_the_known_ones() -> None:
    with pytest.raises(Invalid) as caught:
        compile_filters(SPECS, {"name": "x", "town": "Paris"})
    known = "active, amount, channel, country_code, day, id, name, price"
    assert caught.value.message == f"unknown field 'town'; known fields: {known}"
    assert caught.value.field == "town"


@settings(max_examples=200, deadline=None, database=None)
@given(
    field=st.sampled_from(sorted(SPECS)),
    expression=st.text(alphabet=" aZ19.-'|&()<>*?@t\x00", max_size=12),
)
def test_any_text_either_runs_or_is_an_invalid_error_naming_the_field(
    db: Engine, field: str, expression: str
) -> None:
    try:
        condition = compile_filter(SPECS[field], expression, today=TODAY)
    except Invalid as invalid:
        assert invalid.field == field
        assert invalid.message.startswith(f"{field}: ")
        found = re.search(r" at position (\d+) in \"(.*)\"$", invalid.message, re.DOTALL)
        if found is None:
            assert invalid.message == f"{field}: empty filter"
        else:
            assert 1 <= int(found[1]) <= len(expression) + 1
            assert found[2] == expression
    else:
        assert ids(db, [{}], condition) in ([], [0])


# --- a reference model, checked against both databases -------------------------------------------

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
Predicate = Callable[[Any], bool]
Written = tuple[str, Predicate]  # an expression and what it means for one stored value
Pattern = tuple[tuple[bool, str], ...]  # (is a wildcard, character)

TEXT_ALPHABET = "aAäÄ _%*?[\\'|.@&"
CODE_ALPHABET = "abä1_%*'."
SPECIAL = set("|&()<>'*?@.")
SPACES = st.sampled_from(["", " ", "  "])


def render(pattern: Pattern, quote_anyway: Sequence[bool]) -> str:
    """Write a pattern: wildcards bare, literal runs bare or quoted (quoted when they must be)."""
    if not pattern:
        return "''"
    runs: list[tuple[bool, str]] = []
    for wild, char in pattern:
        if not wild and runs and not runs[-1][0]:
            runs[-1] = (False, runs[-1][1] + char)
        else:
            runs.append((wild, char))
    out = []
    for i, (wild, text) in enumerate(runs):
        must = (
            bool(SPECIAL & set(text))
            or (i == 0 and text[0].isspace())
            or (i == len(runs) - 1 and text[-1].isspace())
        )
        quoted = not wild and (must or quote_anyway[i % len(quote_anyway)])
        out.append("'" + text.replace("'", "''") + "'" if quoted else text)
    return "".join(out)


def text_holds(op: str, pattern: Pattern, ignore_case: bool, code: bool, stored: str) -> bool:
    """The reference meaning of a text or code condition for one stored value."""
    fold: Callable[[str], str] = str.lower if ignore_case else str.upper if code else str
    subject = stored.lower() if ignore_case else stored
    if any(wild for wild, _ in pattern):
        regex = "".join(
            (".*" if c == "*" else ".") if wild else re.escape(fold(c)) for wild, c in pattern
        )
        found = re.fullmatch(regex, subject, re.DOTALL) is not None
        return found if op == "=" else not found
    return OPS[op](subject, fold("".join(c for _, c in pattern)))


def text_between(low: Pattern, high: Pattern, ignore_case: bool, code: bool, stored: str) -> bool:
    return text_holds(">=", low, ignore_case, code, stored) and text_holds(
        "<=", high, ignore_case, code, stored
    )


@st.composite
def patterns(draw: st.DrawFn, stored: Sequence[str], alphabet: str, wildcards: bool) -> Pattern:
    """A value near the stored ones: maybe swapped case, maybe with wildcards in it."""
    base = draw(st.sampled_from(stored) | st.text(alphabet, max_size=3))
    if draw(st.booleans()):
        base = base.swapcase()
    pattern = [(False, c) for c in base]
    if wildcards:
        for i in range(len(pattern)):
            pattern[i] = draw(st.sampled_from([pattern[i]] * 3 + [(True, "?"), (True, "*")]))
        if draw(st.booleans()):
            pattern.insert(draw(st.integers(0, len(pattern))), (True, "*"))
    return tuple(pattern)


@st.composite
def text_conditions(draw: st.DrawFn, field: str, stored: Sequence[str]) -> Written:
    code = field == "country_code"
    alphabet = CODE_ALPHABET if code else TEXT_ALPHABET
    ignore_case = draw(st.booleans())
    quotes = draw(st.lists(st.booleans(), min_size=1, max_size=3))
    at_first = draw(st.booleans())
    at = ("@" if at_first else "", "" if at_first else "@") if ignore_case else ("", "")
    space = draw(SPACES)
    form = draw(st.sampled_from(["op", "op", "range", "from", "up to"]))
    if form == "op":
        op = draw(st.sampled_from(list(OPS)))
        pattern = draw(patterns(stored, alphabet, wildcards=op in ("=", "<>")))
        written = at[0] + ("" if op == "=" else op) + space + at[1] + render(pattern, quotes)
        return written, partial(text_holds, op, pattern, ignore_case, code)
    low, high = (draw(patterns(stored, alphabet, wildcards=False)) for _ in range(2))
    low_text, high_text = render(low, quotes), render(high, quotes)
    if form == "from":
        return f"{at[0]}{at[1]}{low_text}{space}..", partial(
            text_holds, ">=", low, ignore_case, code
        )
    if form == "up to":
        written = f"{at[0]}..{space}{at[1]}{high_text}"
        return written, partial(text_holds, "<=", high, ignore_case, code)
    written = f"{at[0]}{low_text}{space}..{space}{at[1]}{high_text}"
    return written, partial(text_between, low, high, ignore_case, code)


@dataclass(frozen=True)
class Typed:
    """How a non-text field's values are sampled (None: blank), written in a filter, and ordered."""

    samples: list[Any]
    write: Callable[[Any], st.SearchStrategy[str]]
    key: Callable[[Any], Any] = lambda value: value


def write_date(value: date | None) -> st.SearchStrategy[str]:
    if value is None:
        return st.just("''")
    words = ["t", "T", "today", "Today"] if value == TODAY else []
    return st.sampled_from([value.isoformat(), *words])


def write_price(value: Decimal) -> st.SearchStrategy[str]:
    forms = [str(value), f"{value:.4f}", f"{value:+}"]
    if 0 < abs(value) < 1:
        forms.append(str(value).replace("0.", "."))
    return st.sampled_from(forms)


def write_channel(value: str) -> st.SearchStrategy[str]:
    if value == "":
        return st.just("''")
    return st.sampled_from([value, value.upper(), CHANNELS[value], CHANNELS[value].lower()])


TYPED = {
    "amount": Typed(list(range(-3, 4)), lambda v: st.sampled_from([str(v), f"{v:+}", f" {v} "])),
    "price": Typed([Decimal(k) / 4 for k in range(-8, 9)], write_price),
    "day": Typed([None, *(TODAY + timedelta(k) for k in range(-3, 4))], write_date),
    "active": Typed(
        [True, False],
        lambda v: st.sampled_from(["true", "Yes", "1", "TRUE"] if v else ["false", "NO", "0"]),
    ),
    "channel": Typed(list(CHANNELS), write_channel, list(CHANNELS).index),
}


def typed_holds(op: str, value: Any, stored: Any) -> bool:
    """The reference meaning of a comparison; a blank (None) only equals a blank."""
    if value is None or stored is None:
        return op in ("=", "<>") and ((value is None and stored is None) == (op == "="))
    return OPS[op](stored, value)


def typed_between(low: Any, high: Any, stored: Any) -> bool:
    return stored is not None and low <= stored <= high


@st.composite
def typed_conditions(draw: st.DrawFn, field: str, stored: Sequence[Any]) -> Written:
    typed = TYPED[field]

    def key(value: Any) -> Any:
        return None if value is None else typed.key(value)

    space = draw(SPACES)
    values = st.sampled_from([*stored, *typed.samples])
    form = draw(st.sampled_from(["op", "op", "range", "from", "up to"]))
    if form == "op":
        value = draw(values)
        op = draw(st.sampled_from(["=", "<>"] if value is None else list(OPS)))
        written = ("" if op == "=" else op) + space + draw(typed.write(value))
        return written, lambda s: typed_holds(op, key(value), key(s))
    bounds = st.sampled_from([v for v in [*stored, *typed.samples] if v is not None])
    low, high = draw(bounds), draw(bounds)
    low_text, high_text = draw(typed.write(low)), draw(typed.write(high))
    if form == "from":
        return f"{low_text}{space}..", lambda s: typed_holds(">=", key(low), key(s))
    if form == "up to":
        return f"..{space}{high_text}", lambda s: typed_holds("<=", key(high), key(s))
    written = f"{low_text}{space}..{space}{high_text}"
    return written, lambda s: typed_between(key(low), key(high), key(s))


def joined(parts: list[Written], separator: str, combine: Callable[[Any], bool]) -> Written:
    text = separator.join(text for text, _ in parts)
    return text, lambda stored: combine(holds(stored) for _, holds in parts)


def combinations(conditions: st.SearchStrategy[Written], size: int) -> st.SearchStrategy[Written]:
    """`a&b|c`: an or of ands, with random spacing around the operators."""
    terms = st.builds(
        joined,
        st.lists(conditions, min_size=1, max_size=size),
        st.sampled_from(["&", " & "]),
        st.just(all),
    )
    return st.builds(
        joined,
        st.lists(terms, min_size=1, max_size=size),
        st.sampled_from(["|", " |"]),
        st.just(any),
    )


def expressions(field: str, stored: Sequence[Any]) -> st.SearchStrategy[Written]:
    """Expressions over every operator, with one level of parentheses."""
    if field in TYPED:
        conditions = typed_conditions(field, stored)
    else:
        conditions = text_conditions(field, stored)
    grouped = combinations(conditions, 2).map(lambda w: (f"({w[0]})", w[1]))
    return combinations(conditions | grouped, 3)


def stored_values(field: str) -> st.SearchStrategy[Any]:
    if field == "country_code":
        return st.text(CODE_ALPHABET, max_size=3).map(str.upper)
    if field == "name":
        return st.text(TEXT_ALPHABET, max_size=3)
    return st.sampled_from(TYPED[field].samples)


@pytest.mark.parametrize("field", ["name", "country_code", *TYPED])
@settings(max_examples=75, deadline=None, database=None)
@given(data=st.data())
def test_the_database_agrees_with_the_reference_evaluator(
    db: Engine, field: str, data: st.DataObject
) -> None:
    values = data.draw(st.lists(stored_values(field), min_size=1, max_size=12), label="stored")
    expression, holds = data.draw(expressions(field, values), label="expression")
    expected = [value for value in values if holds(value)]
    assert matching(db, field, values, expression) == expected
