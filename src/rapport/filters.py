"""Business Central filter expressions (`FR|BE`, `1000..1999`, `@*gmbh*`) as SQLAlchemy conditions.

An expression is tokenized, parsed into a small AST (`parse`), then compiled against one field
(`compile_filter`). Every value reaches the database as a bound parameter; the few dialect
differences (case-sensitive matching, Unicode lower-casing, code-point ordering) live in
compiled constructs at the end of this module.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, NoReturn

from sqlalchemy import BigInteger, Boolean, Date, Float, Integer, Numeric, SmallInteger, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.inspection import inspect
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import and_, bindparam, literal, not_, or_
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from rapport.errors import Invalid


class FieldKind(StrEnum):
    """How a field's values are read and compared."""

    TEXT = "text"
    CODE = "code"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    BOOLEAN = "boolean"
    ENUM = "enum"


@dataclass(frozen=True)
class FieldSpec:
    """A filterable field: its API name, the SQL expression behind it and its kind."""

    name: str
    column: ColumnElement[Any]
    kind: FieldKind
    enum_values: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if self.kind is FieldKind.ENUM and self.enum_values is None:
            raise ValueError(f"enum field {self.name!r} needs its enum_values")


# --- the AST ------------------------------------------------------------------------------------


class Wildcard(Enum):
    """A wildcard of a bare value: `*` (any run of characters) or `?` (one character)."""

    ANY = "*"
    ONE = "?"


Piece = str | Wildcard


@dataclass(frozen=True)
class Value:
    """A value as written: literal text and wildcards, with its 1-based position."""

    pieces: tuple[Piece, ...]
    position: int
    wildcard_at: int | None = None

    @property
    def text(self) -> str:
        """The value as text, wildcards included."""
        return "".join(p if isinstance(p, str) else p.value for p in self.pieces)


@dataclass(frozen=True)
class Compare:
    """`value`, `<>value`, `<value`, `<=value`, `>value` or `>=value` (op `=` for plain values)."""

    op: str
    value: Value
    ignore_case: bool = False


@dataclass(frozen=True)
class Range:
    """`low..high`, `low..` or `..high`, both ends included."""

    low: Value | None
    high: Value | None
    ignore_case: bool = False


@dataclass(frozen=True)
class And:
    """`a&b&...`: every item holds."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """`a|b|...`: at least one item holds."""

    items: tuple[Node, ...]


Node = Compare | Range | And | Or


# --- tokenizer and parser -----------------------------------------------------------------------

_SYMBOLS = ("..", "<>", "<=", ">=", "<", ">", "(", ")", "|", "&", "@")
# Bounds that no filter a person writes comes near, and that keep a hostile one from exhausting the
# parser's recursion or the database's expression depth (SQLite stops at 1000).
MAX_NESTING = 20
MAX_CONDITIONS = 500
_COMPARISONS = ("<>", "<=", ">=", "<", ">")


@dataclass(frozen=True)
class _Token:
    kind: str  # one of _SYMBOLS, "value" or "end"
    position: int
    value: Value | None = None


def _invalid(field: str, expression: str, message: str, position: int) -> Invalid:
    return Invalid(f'{field}: {message} at position {position} in "{expression}"', field=field)


def _tokenize(expression: str, field: str) -> list[_Token]:
    if "\x00" in expression:  # PostgreSQL text cannot hold it
        raise _invalid(field, expression, "unexpected NUL character", expression.index("\x00") + 1)
    tokens: list[_Token] = []
    i, n = 0, len(expression)
    while True:
        while i < n and expression[i].isspace():
            i += 1
        if i == n:
            return [*tokens, _Token("end", n + 1)]
        symbol = next((s for s in _SYMBOLS if expression.startswith(s, i)), None)
        if symbol is not None:
            tokens.append(_Token(symbol, i + 1))
            i += len(symbol)
        else:
            value, i = _scan_value(expression, i, field)
            tokens.append(_Token("value", value.position, value))


def _scan_value(expression: str, start: int, field: str) -> tuple[Value, int]:
    """Bare text (wildcards active, trailing white space dropped) and quoted text, run together."""
    items: list[tuple[Piece, bool]] = []  # (piece, is bare text)
    wildcard_at: int | None = None
    i, n = start, len(expression)
    while i < n:
        char = expression[i]
        if char == "'":
            text, i = _scan_quoted(expression, i, field)
            items.append((text, False))
            continue
        if char in "|&()<>" or expression.startswith("..", i):
            break
        if char in "*?":
            items.append((Wildcard(char), False))
            wildcard_at = wildcard_at or i + 1
        else:
            items.append((char, True))
        i += 1
    while items and items[-1][1] and str(items[-1][0]).isspace():
        items.pop()
    pieces: list[Piece] = []
    for piece, _ in items:
        if isinstance(piece, str) and pieces and isinstance(pieces[-1], str):
            pieces[-1] += piece
        else:
            pieces.append(piece)
    return Value(tuple(p for p in pieces if p != ""), start + 1, wildcard_at), i


def _scan_quoted(expression: str, start: int, field: str) -> tuple[str, int]:
    chars: list[str] = []
    i = start + 1
    while i < len(expression):
        if expression.startswith("''", i):
            chars.append("'")
            i += 2
        elif expression[i] == "'":
            return "".join(chars), i + 1
        else:
            chars.append(expression[i])
            i += 1
    message = "unterminated quote (write a quote inside quotes as '')"
    raise _invalid(field, expression, message, start + 1)


class _Parser:
    """Recursive descent: or := and ('|' and)*; and := factor ('&' factor)*."""

    def __init__(self, expression: str, field: str) -> None:
        self.expression, self.field = expression, field
        self.tokens = _tokenize(expression, field)
        self.index = 0
        self.depth = 0
        self.conditions = 0

    def fail(self, message: str, position: int) -> NoReturn:
        raise _invalid(self.field, self.expression, message, position)

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self, kind: str) -> _Token | None:
        token = self.peek()
        if token.kind != kind:
            return None
        self.index += 1
        return token

    def unexpected(self) -> NoReturn:
        token = self.peek()
        shown = token.value.text if token.value is not None else token.kind
        self.fail(f"unexpected '{shown}'", token.position)

    def parse(self) -> Node:
        node = self.or_()
        if self.peek().kind != "end":
            self.unexpected()
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.take("|"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> Node:
        items = [self.factor()]
        while self.take("&"):
            items.append(self.factor())
        return items[0] if len(items) == 1 else And(tuple(items))

    def factor(self) -> Node:
        opening = self.take("(")
        if opening is None:
            return self.condition()
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.fail(f"parentheses nested more than {MAX_NESTING} deep", opening.position)
        node = self.or_()
        self.depth -= 1
        if not self.take(")"):
            if self.peek().kind != "end":
                self.unexpected()
            self.fail("missing ')'", self.peek().position)
        return node

    def condition(self) -> Node:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            self.fail(f"more than {MAX_CONDITIONS} conditions (use a range or wildcards)", self.peek().position)
        ignore_case = self.take("@") is not None
        kind = self.peek().kind
        if kind in _COMPARISONS:
            self.index += 1
            value, at = self.value()
            return Compare(kind, value, ignore_case or at)
        if self.take(".."):
            high, at = self.value()
            return Range(None, high, ignore_case or at)
        low, at_low = self.value()
        if not self.take(".."):
            return Compare("=", low, ignore_case or at_low)
        if self.peek().kind not in ("value", "@"):
            return Range(low, None, ignore_case or at_low)
        high, at_high = self.value()
        return Range(low, high, ignore_case or at_low or at_high)

    def value(self) -> tuple[Value, bool]:
        ignore_case = self.take("@") is not None
        token = self.take("value")
        if token is None or token.value is None:
            if self.peek().kind == "end":
                self.fail("expected a value", self.peek().position)
            self.unexpected()
        return token.value, ignore_case


def parse(expression: str, field: str) -> Node:
    """Parse a filter expression into its AST; raise `Invalid` naming `field` when malformed."""
    if not expression.strip():
        raise Invalid(f"{field}: empty filter", field=field)
    return _Parser(expression, field).parse()


# --- compiler -----------------------------------------------------------------------------------

_ORDER: dict[str, Callable[[Any, Any], Any]] = {"<": operator.lt, "<=": operator.le}
_ORDER |= {">": operator.gt, ">=": operator.ge}
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
_NOT_A = {
    FieldKind.INTEGER: "is not a number",
    FieldKind.DECIMAL: "is not a number",
    FieldKind.DATE: "is not a date (YYYY-MM-DD, t or today)",
    FieldKind.BOOLEAN: "is not a boolean (true/false, yes/no, 1/0)",
}


def _integer_limit(type_: Any) -> int:
    """The first magnitude the database cannot bind for an integer column (PostgreSQL casts)."""
    if isinstance(type_, SmallInteger):
        return 2**15
    return 2**63 if isinstance(type_, BigInteger) else 2**31


def _join(pieces: tuple[Piece, ...]) -> str:
    return "".join(p for p in pieces if isinstance(p, str))


class _Compiler:
    """Turns the AST of one field's expression into a condition on its column."""

    def __init__(self, spec: FieldSpec, expression: str, today: date) -> None:
        self.spec, self.expression, self.today = spec, expression, today
        self.column = spec.column
        self.enum_names = list(spec.enum_values or {})

    def fail(self, message: str, position: int) -> NoReturn:
        raise _invalid(self.spec.name, self.expression, message, position)

    def build(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, Or):
            return or_(*(self.build(item) for item in node.items))
        if isinstance(node, And):
            return and_(*(self.build(item) for item in node.items))
        if isinstance(node, Compare):
            return self.compare(node)
        if node.low is None or node.high is None:
            op, bound = (">=", node.low) if node.high is None else ("<=", node.high)
            assert bound is not None  # the parser never builds `..` alone
            return self.compare(Compare(op, bound, node.ignore_case))
        return self.between(node.low, node.high, node.ignore_case)

    def compare(self, node: Compare) -> ColumnElement[bool]:
        op, value = node.op, node.value
        if self.spec.kind in (FieldKind.TEXT, FieldKind.CODE):
            column, pieces = self.text(value, node.ignore_case)
            if value.wildcard_at is not None and op in ("=", "<>"):
                match = _Matches(column, bindparam(None, pieces, type_=_Pattern()))
                return match if op == "=" else not_(match)
            self.no_wildcards(value)
            if op in ("=", "<>"):
                return column == _join(pieces) if op == "=" else column != _join(pieces)
            return _ORDER[op](_CodePoint(column), _join(pieces))
        scalar = self.scalar(value)
        if op == "=":
            return self.column.is_(None) if scalar is None else self.column == scalar
        if op == "<>":
            if scalar is None:
                return self.column.is_not(None)
            return self.column.is_distinct_from(scalar)
        if scalar is None:
            self.fail("'' can only be compared with = or <>", value.position)
        if self.spec.kind is FieldKind.ENUM:
            at = self.enum_names.index(scalar)
            return self.column.in_([n for i, n in enumerate(self.enum_names) if _ORDER[op](i, at)])
        return _ORDER[op](self.column, literal(scalar, self.column.type))  # literal: False < True

    def between(self, low: Value, high: Value, ignore_case: bool) -> ColumnElement[bool]:
        if self.spec.kind in (FieldKind.TEXT, FieldKind.CODE):
            self.no_wildcards(low)
            self.no_wildcards(high)
            column, low_pieces = self.text(low, ignore_case)
            high_pieces = self.text(high, ignore_case)[1]
            return _CodePoint(column).between(_join(low_pieces), _join(high_pieces))
        bounds = self.scalar(low), self.scalar(high)
        if None in bounds:
            self.fail("'' cannot bound a range", (low if bounds[0] is None else high).position)
        if self.spec.kind is FieldKind.ENUM:
            first, last = (self.enum_names.index(b) for b in bounds)
            return self.column.in_(self.enum_names[first : last + 1])
        low_bound, high_bound = (literal(b, self.column.type) for b in bounds)
        return self.column.between(low_bound, high_bound)

    def no_wildcards(self, value: Value) -> None:
        if value.wildcard_at is not None:
            self.fail("wildcards are only allowed in = and <> conditions", value.wildcard_at)

    def text(self, value: Value, ignore_case: bool) -> tuple[ColumnElement[Any], tuple[Piece, ...]]:
        """The column and the value's pieces, lower-cased for `@`, upper-cased for codes."""
        column: ColumnElement[Any] = self.column
        if ignore_case:
            change, column = str.lower, _Lower(self.column)
        elif self.spec.kind is FieldKind.CODE:
            change = str.upper
        else:
            return column, value.pieces
        return column, tuple(change(p) if isinstance(p, str) else p for p in value.pieces)

    def scalar(self, value: Value) -> Any:
        """The value read as the field's kind; None for a blank date; `Invalid` when unreadable."""
        if value.wildcard_at is not None:
            self.fail("wildcards are only allowed on text fields", value.wildcard_at)
        text, kind = value.text, self.spec.kind
        if kind is FieldKind.INTEGER and _INTEGER.fullmatch(text):
            if abs(int(text)) >= _integer_limit(self.column.type):
                self.fail(f'"{text}" is out of range', value.position)
            return int(text)
        if kind is FieldKind.INTEGER and _DECIMAL.fullmatch(text):
            self.fail(f'"{text}" is not a whole number', value.position)
        if kind is FieldKind.DECIMAL and _DECIMAL.fullmatch(text):
            return Decimal(text)
        if kind is FieldKind.DATE:
            if text.lower() in ("", "t", "today"):
                return self.today if text else None
            if _DATE.fullmatch(text):
                try:
                    return date.fromisoformat(text)
                except ValueError:
                    pass
        if kind is FieldKind.BOOLEAN and text.lower() in _BOOLEANS:
            return _BOOLEANS[text.lower()]
        if kind is FieldKind.ENUM:
            values = self.spec.enum_values or {}
            for api, caption in values.items():
                if text.lower() in (api.lower(), caption.strip().lower()):
                    return api
            shown = ", ".join(api or "''" for api in values)
            self.fail(f'"{text}" is not one of {shown}', value.position)
        self.fail(f'"{text}" {_NOT_A[kind]}', value.position)


def compile_filter(
    spec: FieldSpec, expression: str, today: date | None = None
) -> ColumnElement[bool]:
    """The condition on `spec.column` that `expression` describes; `Invalid` when it is wrong."""
    node = parse(expression, spec.name)
    return _Compiler(spec, expression, today or date.today()).build(node)


def compile_filters(
    fields: Mapping[str, FieldSpec], filters: Mapping[str, str], today: date | None = None
) -> list[ColumnElement[bool]]:
    """One condition per `name -> expression` of `filters`, for the fields named in `fields`."""
    conditions = []
    for name, expression in filters.items():
        spec = fields.get(name)
        if spec is None:
            known = ", ".join(sorted(fields))
            raise Invalid(f"unknown field '{name}'; known fields: {known}", field=name)
        conditions.append(compile_filter(spec, expression, today))
    return conditions


def contains_text(column: ColumnElement[str] | InstrumentedAttribute[str], text: str) -> ColumnElement[bool]:
    """Whether `column` contains `text`, ignoring case as Unicode does, on SQLite too (whose LIKE
    folds ASCII letters only): a search box's condition."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if text.isascii():  # the database's own case-insensitive LIKE is right for ASCII letters
        return column.ilike(pattern, escape="\\")
    return _Lower(column).like(pattern.lower(), escape="\\")


def field_specs(
    model_or_table: Any,
    kinds: Mapping[str, FieldKind] | None = None,
    enums: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, FieldSpec]:
    """Specs for the columns of a model class or table; `kinds` and `enums` override the types."""
    kinds, enums = kinds or {}, enums or {}
    columns: dict[str, ColumnElement[Any]] = dict(inspect(model_or_table).columns.items())
    unknown = (set(kinds) | set(enums)) - set(columns)
    if unknown:
        raise ValueError(f"no such columns: {', '.join(sorted(unknown))}")
    specs = {}
    for name, column in columns.items():
        kind = kinds.get(name) or (FieldKind.ENUM if name in enums else _kind_of(name, column))
        if kind is not None:
            specs[name] = FieldSpec(name, column, kind, enums.get(name))
    return specs


def _kind_of(name: str, column: ColumnElement[Any]) -> FieldKind | None:
    type_ = column.type
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    if isinstance(type_, Boolean):
        return FieldKind.BOOLEAN
    if isinstance(type_, Integer):
        return FieldKind.INTEGER
    if isinstance(type_, Numeric | Float):
        return FieldKind.DECIMAL
    if isinstance(type_, Date):
        return FieldKind.DATE
    if isinstance(type_, String):
        is_code = name in ("code", "no") or name.endswith(("_code", "_no"))
        return FieldKind.CODE if is_code else FieldKind.TEXT
    return None  # DateTime, JSON, ...: not filterable by expression


# --- dialect-specific constructs ----------------------------------------------------------------


class _Pattern(TypeDecorator[Any]):
    """Wildcard pieces, bound as a GLOB pattern on SQLite and as a LIKE pattern elsewhere."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if dialect.name == "sqlite":  # GLOB: a special character is literal inside [ ]
            return "".join(
                re.sub(r"([*?[])", r"[\1]", p) if isinstance(p, str) else p.value for p in value
            )
        like = {Wildcard.ANY: "%", Wildcard.ONE: "_"}
        return "".join(
            re.sub(r"([\\%_])", r"\\\1", p) if isinstance(p, str) else like[p] for p in value
        )

    def process_literal_param(self, value: Any, dialect: Any) -> Any:
        return self.process_bind_param(value, dialect)


class _Lower(FunctionElement[str]):
    """Unicode lower-casing; SQLite's lower() is ASCII-only, so there it is unicode_lower()."""

    type = String()
    inherit_cache = True


class _Matches(FunctionElement[bool]):
    """A case-sensitive pattern match: GLOB on SQLite (its LIKE ignores case), LIKE elsewhere."""

    type = Boolean()
    inherit_cache = True


class _CodePoint(FunctionElement[str]):
    """A text expression compared in code-point order (COLLATE "C" on PostgreSQL, as SQLite)."""

    type = String()
    inherit_cache = True


@compiles(_Lower)
def _compile_lower(element: _Lower, compiler: SQLCompiler, **kw: Any) -> str:
    function = "unicode_lower" if compiler.dialect.name == "sqlite" else "lower"
    return f"{function}({compiler.process(element.clauses, **kw)})"


@compiles(_Matches)
def _compile_matches(element: _Matches, compiler: SQLCompiler, **kw: Any) -> str:
    column, pattern = (compiler.process(clause, **kw) for clause in element.clauses)
    if compiler.dialect.name == "sqlite":
        return f"({column} GLOB {pattern})"
    return f"({column} LIKE {pattern} ESCAPE '\\')"


@compiles(_CodePoint)
def _compile_code_point(element: _CodePoint, compiler: SQLCompiler, **kw: Any) -> str:
    text = compiler.process(element.clauses, **kw)
    return f'({text} COLLATE "C")' if compiler.dialect.name == "postgresql" else text
