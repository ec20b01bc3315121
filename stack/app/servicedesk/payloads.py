"""Validation of request bodies and query strings into typed values (HTTP 422 on bad input)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from .asgi import HttpError

__all__ = [
    "MAX_PER_PAGE",
    "enum_field",
    "invalid",
    "optional_enum",
    "optional_id",
    "page_args",
    "required_object",
    "search_terms",
    "text_field",
]

E = TypeVar("E", bound=StrEnum)

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
MAX_SEARCH_TERMS = 16
_WORD = re.compile(r"\w+")


def invalid(field: str, expected: str) -> HttpError:
    return HttpError(422, "validation_error", f"{field}: expected {expected}")


def required_object(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise invalid("body", "a JSON object")
    return value


def text_field(body: Mapping[str, Any], field: str, *, max_length: int) -> str:
    value = body.get(field)
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > max_length:
        raise invalid(field, f"a non-empty string of at most {max_length} characters")
    return text


def enum_field(body: Mapping[str, Any], field: str, kind: type[E]) -> E:
    value = body.get(field)
    if isinstance(value, str):
        for member in kind:
            if member.value == value:
                return member
    raise invalid(field, "one of " + ", ".join(m.value for m in kind))


def optional_enum(query: Mapping[str, str], field: str, kind: type[E]) -> E | None:
    raw = query.get(field)
    if raw is None or raw == "":
        return None
    return enum_field(query, field, kind)


def _int(raw: Any, field: str, minimum: int, maximum: int | None = None) -> int:
    expected = f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum else "")
    if isinstance(raw, bool):
        raise invalid(field, expected)
    if isinstance(raw, str):
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise invalid(field, expected)
        raw = int(raw)
    if not isinstance(raw, int) or raw < minimum or (maximum is not None and raw > maximum):
        raise invalid(field, expected)
    return raw


def optional_id(source: Mapping[str, Any], field: str) -> int | None:
    raw = source.get(field)
    if raw is None or raw == "":
        return None
    return _int(raw, field, 1)


def page_args(query: Mapping[str, str]) -> tuple[int, int]:
    page = _int(query.get("page", "1"), "page", 1)
    per_page = _int(query.get("per_page", str(DEFAULT_PER_PAGE)), "per_page", 1, MAX_PER_PAGE)
    return page, per_page


def search_terms(query: Mapping[str, str]) -> tuple[str, ...]:
    terms = tuple(_WORD.findall(query.get("q", "").lower()))[:MAX_SEARCH_TERMS]
    if not terms:
        raise invalid("q", "at least one word to search for")
    return terms
