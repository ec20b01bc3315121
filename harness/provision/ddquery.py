"""Datadog metric monitor queries: a parser for the documented grammar, to reject bad queries here
rather than in Datadog's API.

The grammar, as the Monitors API states it (datadog-api-client, MonitorsApi.create_monitor):

    time_aggr(time_window):space_aggr:metric{tags} [by {key}] operator #
    change_aggr(time_aggr(time_window),timeshift):space_aggr:metric{tags} [by {key}] operator #

with time_aggr avg|sum|max|min, time_window last_#m (1-10080), last_#h (1-168), last_1d or
last_1w (change: last_#m 1-2880, last_#h 1-48, last_#d 1-2), timeshift 5m_ago|10m_ago|15m_ago|
30m_ago|1h_ago|2h_ago|4h_ago|1d_ago, space_aggr avg|sum|min|max, tags `*` or comma-separated
(optionally negated with `!`, with `*` wildcards), operator <|<=|>|>=|==|!=. Metric queries may be
combined with + - * / and parentheses, and take `.as_count()` or `.as_rate()`; every metric query
of one monitor must group by the same keys (a multi-alert needs one group per evaluation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MetricQuery", "MonitorQuery", "QuerySyntaxError", "parse_monitor_query"]

TIME_AGGREGATORS = ("avg", "sum", "max", "min")
CHANGE_AGGREGATORS = ("change", "pct_change")
SPACE_AGGREGATORS = ("avg", "sum", "min", "max")
OPERATORS = ("<=", ">=", "==", "!=", "<", ">")
TIMESHIFTS = ("5m_ago", "10m_ago", "15m_ago", "30m_ago", "1h_ago", "2h_ago", "4h_ago", "1d_ago")
MODIFIERS = (".as_count()", ".as_rate()")

_METRIC = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")
_TAG = re.compile(r"!?[A-Za-z][A-Za-z0-9_.:/\-*]*")
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.\-/]*")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_WINDOW = re.compile(r"last_(\d+)([mhdw])")


class QuerySyntaxError(ValueError):
    """The query does not follow Datadog's metric monitor grammar; says where."""

    def __init__(self, query: str, position: int, problem: str) -> None:
        super().__init__(f"{problem} at column {position + 1}: {query[:position]}⟨here⟩"
                         f"{query[position:]}")
        self.position = position
        self.problem = problem


@dataclass(frozen=True)
class MetricQuery:
    space_aggregator: str
    metric: str
    tags: tuple[str, ...]
    group_by: tuple[str, ...]
    modifiers: tuple[str, ...]


@dataclass(frozen=True)
class MonitorQuery:
    time_aggregator: str
    window: str
    change: tuple[str, str] | None  # (change aggregator, timeshift) for change queries
    metrics: tuple[MetricQuery, ...]
    operator: str
    threshold: float


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.metrics: list[MetricQuery] = []

    # -- helpers ------------------------------------------------------------------------------

    def fail(self, problem: str) -> QuerySyntaxError:
        return QuerySyntaxError(self.text, self.pos, problem)

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def take(self, literal: str) -> bool:
        if self.text.startswith(literal, self.pos):
            self.pos += len(literal)
            return True
        return False

    def expect(self, literal: str) -> None:
        if not self.take(literal):
            raise self.fail(f"expected {literal!r}")

    def match(self, pattern: re.Pattern[str], what: str) -> str:
        found = pattern.match(self.text, self.pos)
        if not found:
            raise self.fail(f"expected {what}")
        self.pos = found.end()
        return found.group(0)

    def word(self, allowed: tuple[str, ...], what: str) -> str:
        for candidate in sorted(allowed, key=len, reverse=True):
            if self.take(candidate):
                return candidate
        raise self.fail(f"expected {what} ({', '.join(allowed)})")

    # -- grammar ------------------------------------------------------------------------------

    def window(self, change: bool) -> str:
        start = self.pos
        text = self.match(_WINDOW, "a time window such as last_5m")
        found = _WINDOW.fullmatch(text)
        assert found is not None  # noqa: S101 - matched just above
        count, unit = int(found.group(1)), found.group(2)
        limits = (
            {"m": 2880, "h": 48, "d": 2}
            if change
            else {"m": 10080, "h": 168}
        )
        ok = (unit in limits and 1 <= count <= limits[unit]) or (
            not change and (unit, count) in (("d", 1), ("w", 1))
        )
        if not ok:
            self.pos = start
            allowed = (
                "last_#m (1-2880), last_#h (1-48), last_#d (1-2)"
                if change
                else "last_#m (1-10080), last_#h (1-168), last_1d, last_1w"
            )
            raise self.fail(f"window {text} is out of range ({allowed})")
        return text

    def head(self) -> tuple[str, str, tuple[str, str] | None]:
        change: tuple[str, str] | None = None
        for aggregator in CHANGE_AGGREGATORS:
            if self.text.startswith(aggregator + "(", self.pos):
                self.pos += len(aggregator) + 1
                time_aggregator = self.word(TIME_AGGREGATORS, "a time aggregator")
                self.expect("(")
                window = self.window(change=True)
                self.expect("),")
                shift = self.word(TIMESHIFTS, "a timeshift")
                self.expect(")")
                change = (aggregator, shift)
                return time_aggregator, window, change
        time_aggregator = self.word(TIME_AGGREGATORS, "a time aggregator")
        self.expect("(")
        window = self.window(change=False)
        self.expect(")")
        return time_aggregator, window, change

    def metric_query(self) -> None:
        space = self.word(SPACE_AGGREGATORS, "a space aggregator")
        self.expect(":")
        metric = self.match(_METRIC, "a metric name")
        self.expect("{")
        tags: list[str] = []
        if self.take("*"):
            tags.append("*")
        else:
            tags.append(self.match(_TAG, "a tag"))
            while self.take(","):
                tags.append(self.match(_TAG, "a tag"))
        self.expect("}")
        group_by: list[str] = []
        if self.take(" by {"):
            group_by.append(self.match(_KEY, "a tag key"))
            while self.take(","):
                group_by.append(self.match(_KEY, "a tag key"))
            self.expect("}")
        modifiers: list[str] = []
        while self.text.startswith(".", self.pos):
            modifiers.append(self.word(MODIFIERS, "a modifier"))
        self.metrics.append(
            MetricQuery(space, metric, tuple(tags), tuple(group_by), tuple(modifiers))
        )

    def factor(self) -> None:
        self.skip_spaces()
        if self.take("("):
            self.expression()
            self.skip_spaces()
            self.expect(")")
        elif _NUMBER.match(self.text, self.pos):
            self.match(_NUMBER, "a number")
        else:
            self.metric_query()
        self.skip_spaces()

    def term(self) -> None:
        self.factor()
        while self.pos < len(self.text) and self.text[self.pos] in "*/":
            self.pos += 1
            self.factor()

    def expression(self) -> None:
        self.term()
        while self.pos < len(self.text) and self.text[self.pos] in "+-":
            self.pos += 1
            self.term()

    def parse(self) -> MonitorQuery:
        time_aggregator, window, change = self.head()
        self.expect(":")
        self.expression()
        self.skip_spaces()
        operator = self.word(OPERATORS, "a comparison operator")
        self.skip_spaces()
        threshold = float(self.match(_NUMBER, "a threshold number"))
        if self.pos != len(self.text):
            raise self.fail("unexpected text after the threshold")
        if not self.metrics:
            raise self.fail("no metric query")
        groups = {m.group_by for m in self.metrics}
        if len(groups) > 1:
            self.pos = 0
            raise self.fail(
                "every metric query must group by the same keys, found "
                + " and ".join(f"{{{','.join(g)}}}" for g in sorted(groups))
            )
        return MonitorQuery(time_aggregator, window, change, tuple(self.metrics), operator,
                            threshold)


def parse_monitor_query(query: str) -> MonitorQuery:
    """Parse a metric monitor query; raise QuerySyntaxError with the column on the first fault."""
    return _Parser(query).parse()
