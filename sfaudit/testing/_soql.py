"""A small SOQL subset for the emulator: enough for what sfaudit and simple checks ask.

Supported: ``SELECT`` fields (relationship paths such as ``Profile.UserLicense.Name``),
``COUNT()``, ``COUNT(field)``, ``SUM/MIN/MAX(field)`` with aliases or ``exprN`` names,
``FROM``, ``WHERE`` with ``=``, ``!=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``, ``LIKE``,
``IN``/``NOT IN`` (a list or a semi-join ``SELECT``), ``AND``, ``OR``, ``NOT`` and
parentheses, ``GROUP BY``, ``ORDER BY`` and ``LIMIT``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


class SoqlError(Exception):
    """A query the emulator cannot parse: answered as ``MALFORMED_QUERY``."""

    def __init__(self, message: str, column: int = 1) -> None:
        self.column = column
        super().__init__(f"\nERROR at Row:1:Column:{column}\n{message}")


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<op><=|>=|!=|<>|=|<|>|\(|\)|,)
      | (?P<number>-?\d+(?:\.\d+)?(?![\w:-]))
      | (?P<word>[A-Za-z_][\w.]*|\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2}))?)
    )""",
    re.VERBOSE,
)
_AGGREGATES = ("COUNT", "SUM", "MIN", "MAX", "AVG", "COUNT_DISTINCT")


@dataclass
class Token:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise SoqlError(f"unexpected token: '{text[pos:].split()[0]}'", pos + 1)
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


@dataclass
class Item:
    """One select item: a field path, or an aggregate over one."""

    path: str | None
    aggregate: str | None = None
    alias: str | None = None


@dataclass
class Query:
    items: list[Item]
    sobject: str
    where: Cond | None = None
    group_by: list[str] = field(default_factory=list)
    order_by: list[tuple[str, bool]] = field(default_factory=list)
    limit: int | None = None

    @property
    def is_count(self) -> bool:
        """``SELECT COUNT() FROM ...``: the answer is ``totalSize`` alone."""
        return (
            len(self.items) == 1 and self.items[0].aggregate == "COUNT" and not self.items[0].path
        )

    @property
    def is_aggregate(self) -> bool:
        return any(i.aggregate for i in self.items) or bool(self.group_by)

    def fields(self) -> list[str]:
        """The field paths this query names on its own object (sub-selects left out)."""
        found = [i.path for i in self.items if i.path]
        found += self.group_by + [path for path, _ in self.order_by]
        if self.where is not None:
            found += self.where.fields()
        return found

    def objects(self) -> set[str]:
        """Every object this query reads, semi-joins included."""
        found = {self.sobject}
        if self.where is not None:
            found |= self.where.objects()
        return found


@dataclass
class Cond:
    op: str  # "and", "or", "not", "cmp", "in"
    children: list[Cond] = field(default_factory=list)
    path: str = ""
    cmp: str = ""
    value: Any = None
    values: list[Any] = field(default_factory=list)
    subquery: Query | None = None
    negate: bool = False

    def fields(self) -> list[str]:
        found = [self.path] if self.path else []
        for child in self.children:
            found += child.fields()
        return found

    def objects(self) -> set[str]:
        found: set[str] = set()
        for child in self.children:
            found |= child.objects()
        if self.subquery is not None:
            found |= self.subquery.objects()
        return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise SoqlError("unexpected end of query", self._end())
        self.i += 1
        return tok

    def _end(self) -> int:
        return (self.tokens[-1].pos + len(self.tokens[-1].text) + 1) if self.tokens else 1

    def expect(self, word: str) -> Token:
        tok = self.take()
        if tok.upper != word:
            raise SoqlError(f"unexpected token: '{tok.text}'", tok.pos + 1)
        return tok

    def at(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.upper in words

    def query(self) -> Query:
        self.expect("SELECT")
        items = [self.item()]
        while self.at(","):
            self.take()
            items.append(self.item())
        self.expect("FROM")
        sobject = self.take()
        if sobject.kind != "word":
            raise SoqlError(f"unexpected token: '{sobject.text}'", sobject.pos + 1)
        q = Query(items=items, sobject=sobject.text)
        if self.at("WHERE"):
            self.take()
            q.where = self.or_cond()
        if self.at("GROUP"):
            self.take()
            self.expect("BY")
            q.group_by.append(self.take().text)
            while self.at(","):
                self.take()
                q.group_by.append(self.take().text)
        if self.at("ORDER"):
            self.take()
            self.expect("BY")
            while True:
                path = self.take().text
                desc = False
                if self.at("ASC", "DESC"):
                    desc = self.take().upper == "DESC"
                if self.at("NULLS"):
                    self.take()
                    self.take()
                q.order_by.append((path, desc))
                if not self.at(","):
                    break
                self.take()
        if self.at("LIMIT"):
            self.take()
            tok = self.take()
            if tok.kind != "number":
                raise SoqlError(f"unexpected token: '{tok.text}'", tok.pos + 1)
            q.limit = int(tok.text)
        return q

    def item(self) -> Item:
        tok = self.take()
        if tok.kind != "word" or tok.upper == "FROM":
            raise SoqlError(f"unexpected token: '{tok.text}'", tok.pos + 1)
        if tok.upper in _AGGREGATES and self.at("("):
            self.take()
            path = None
            if not self.at(")"):
                path = self.take().text
            self.expect(")")
            alias = None
            nxt = self.peek()
            if nxt is not None and nxt.kind == "word" and nxt.upper not in ("FROM",):
                alias = self.take().text
            return Item(path=path, aggregate=tok.upper, alias=alias)
        return Item(path=tok.text)

    def or_cond(self) -> Cond:
        children = [self.and_cond()]
        while self.at("OR"):
            self.take()
            children.append(self.and_cond())
        return children[0] if len(children) == 1 else Cond("or", children)

    def and_cond(self) -> Cond:
        children = [self.not_cond()]
        while self.at("AND"):
            self.take()
            children.append(self.not_cond())
        return children[0] if len(children) == 1 else Cond("and", children)

    def not_cond(self) -> Cond:
        if self.at("NOT"):
            self.take()
            return Cond("not", [self.not_cond()])
        if self.at("("):
            self.take()
            cond = self.or_cond()
            self.expect(")")
            return cond
        return self.comparison()

    def comparison(self) -> Cond:
        path = self.take()
        if path.kind != "word":
            raise SoqlError(f"unexpected token: '{path.text}'", path.pos + 1)
        negate = False
        if self.at("NOT"):
            self.take()
            negate = True
        if self.at("IN"):
            self.take()
            self.expect("(")
            if self.at("SELECT"):
                sub = self.query()
                self.expect(")")
                if len(sub.items) != 1 or sub.items[0].aggregate:
                    raise SoqlError("a semi-join selects exactly one field", path.pos + 1)
                return Cond("in", path=path.text, subquery=sub, negate=negate)
            values = [self.value()]
            while self.at(","):
                self.take()
                values.append(self.value())
            self.expect(")")
            return Cond("in", path=path.text, values=values, negate=negate)
        if negate:
            raise SoqlError("expected IN after NOT", path.pos + 1)
        op = self.take()
        if op.upper == "LIKE":
            return Cond("cmp", path=path.text, cmp="like", value=self.value())
        if op.kind != "op" or op.text in "(),":
            raise SoqlError(f"unexpected token: '{op.text}'", op.pos + 1)
        return Cond(
            "cmp", path=path.text, cmp="!=" if op.text == "<>" else op.text, value=self.value()
        )

    def value(self) -> Any:
        tok = self.take()
        if tok.kind == "string":
            return re.sub(r"\\(.)", r"\1", tok.text[1:-1])
        if tok.kind == "number":
            return float(tok.text) if "." in tok.text else int(tok.text)
        if tok.upper == "TRUE":
            return True
        if tok.upper == "FALSE":
            return False
        if tok.upper == "NULL":
            return None
        if tok.kind == "word" and tok.text[:1].isdigit():
            return tok.text
        raise SoqlError(f"unexpected token: '{tok.text}'", tok.pos + 1)


def parse(text: str) -> Query:
    """Parse one SOQL statement; raises :class:`SoqlError` on anything unsupported."""
    parser = _Parser(text)
    query = parser.query()
    rest = parser.peek()
    if rest is not None:
        raise SoqlError(f"unexpected token: '{rest.text}'", rest.pos + 1)
    return query


# --- evaluation -------------------------------------------------------------------


def get_path(record: dict[str, Any] | None, path: str) -> Any:
    """The value at a dotted path, matching names case-insensitively; None past a null."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        lowered = part.lower()
        value = next((v for k, v in value.items() if k.lower() == lowered), None)
    return value


def _canonical_key(record: dict[str, Any], name: str) -> str:
    lowered = name.lower()
    return next((k for k in record if k.lower() == lowered), name)


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "=":
        return _eq(left, right)
    if op == "!=":
        return not _eq(left, right)
    if op == "like":
        if left is None or right is None:
            return False
        pattern = "".join(
            ".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(right)
        )
        return re.fullmatch(pattern, str(left), re.IGNORECASE | re.DOTALL) is not None
    if left is None or right is None:
        return False
    left, right = _moment(left), _moment(right)
    try:
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        if op == ">=":
            return bool(left >= right)
    except TypeError:
        return False
    raise SoqlError(f"unsupported operator {op}")


_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _moment(value: Any) -> Any:
    """A datetime literal or value (``2026-11-20T10:00:00.000+0000``, ``...Z``) as an
    aware datetime, so both spellings compare as instants; anything else as is."""
    import datetime as dt

    if not isinstance(value, str) or not _DATETIME.match(value):
        return value
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return value
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _eq(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        if len(left) in (15, 18) and len(right) in (15, 18) and left[:15] == right[:15]:
            return True
        return left.lower() == right.lower()
    return bool(left == right)


Resolver = Callable[[Query], frozenset[Any]]


def matches(cond: Cond | None, record: dict[str, Any], semijoin: Resolver) -> bool:
    """Whether ``record`` satisfies ``cond``; ``semijoin`` answers sub-selects."""
    if cond is None:
        return True
    if cond.op == "and":
        return all(matches(c, record, semijoin) for c in cond.children)
    if cond.op == "or":
        return any(matches(c, record, semijoin) for c in cond.children)
    if cond.op == "not":
        return not matches(cond.children[0], record, semijoin)
    value = get_path(record, cond.path)
    if cond.op == "cmp":
        return _compare(value, cond.cmp, cond.value)
    options = semijoin(cond.subquery) if cond.subquery is not None else cond_keys(cond)
    found = value is not None and value_key(value) in options
    return not found if cond.negate else found


def value_key(value: Any) -> Any:
    """How ``=`` and ``IN`` compare: Ids by their 15-character form, text case-insensitively."""
    if isinstance(value, str):
        return value[:15] if len(value) in (15, 18) and value.isalnum() else value.lower()
    return value


def cond_keys(cond: Cond) -> frozenset[Any]:
    return frozenset(value_key(v) for v in cond.values)


def project(
    record: dict[str, Any], paths: Iterable[str], sobject: str, url_base: str
) -> dict[str, Any]:
    """The record as the REST API returns it: selected fields, parents nested with attributes."""
    out: dict[str, Any] = {"attributes": _attributes(record, sobject, url_base)}
    for path in paths:
        parts = path.split(".")
        source: Any = record
        target = out
        for depth, part in enumerate(parts):
            if not isinstance(source, dict):
                break
            key = _canonical_key(source, part)
            value = source.get(key)
            if depth == len(parts) - 1:
                target[key] = value
            elif value is None:
                target.setdefault(key, None)
                break
            else:
                child = target.get(key)
                if not isinstance(child, dict):
                    child = {"attributes": _attributes(value, _type_of(value, part), url_base)}
                    target[key] = child
                target = child
                source = value
    return out


def _type_of(record: dict[str, Any], fallback: str) -> str:
    attributes = record.get("attributes")
    if isinstance(attributes, dict) and attributes.get("type"):
        return str(attributes["type"])
    return fallback


def _attributes(record: dict[str, Any], sobject: str, url_base: str) -> dict[str, Any]:
    sobject = _type_of(record, sobject)
    rid = record.get("Id")
    attributes: dict[str, Any] = {"type": sobject}
    if rid:
        attributes["url"] = f"{url_base}/sobjects/{sobject}/{rid}"
    return attributes


def aggregate(query: Query, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GROUP BY and aggregate functions; rows may carry a ``_weight`` (virtual records)."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        key = tuple(get_path(row, path) for path in query.group_by)
        groups.setdefault(key, []).append(row)
    if not query.group_by and not groups:
        groups[()] = []
    out: list[dict[str, Any]] = []
    for key, members in groups.items():
        record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        expr = 0
        for item in query.items:
            if item.aggregate is None:
                assert item.path is not None
                if item.path not in query.group_by and item.path.lower() not in (
                    g.lower() for g in query.group_by
                ):
                    raise SoqlError(
                        f"Field must be grouped or aggregated: {item.path.split('.')[-1]}"
                    )
                index = [g.lower() for g in query.group_by].index(item.path.lower())
                record[item.path.split(".")[-1]] = key[index]
                continue
            name = item.alias
            if name is None:
                name = f"expr{expr}"
                expr += 1
            record[name] = _aggregate_value(item, members)
        out.append(record)
    return out


def _aggregate_value(item: Item, rows: list[dict[str, Any]]) -> Any:
    if item.aggregate == "COUNT":
        return sum(
            int(r.get("_weight", 1))
            for r in rows
            if item.path is None or "_weight" in r or get_path(r, item.path) is not None
        )
    values = [get_path(r, item.path or "") for r in rows]
    present = [v for v in values if v is not None]
    if item.aggregate == "COUNT_DISTINCT":
        return len(set(present))
    if not present:
        return None
    if item.aggregate == "SUM":
        return sum(present)
    if item.aggregate == "MIN":
        return min(present)
    if item.aggregate == "MAX":
        return max(present)
    return sum(present) / len(present)


def sort_key(path: str) -> Callable[[dict[str, Any]], tuple[bool, str]]:
    """ORDER BY on ``path``: nulls last, values compared as text."""

    def key(record: dict[str, Any]) -> tuple[bool, str]:
        value = get_path(record, path)
        return (value is None, str(value))

    return key
