import pytest
from servicedesk.asgi import HttpError
from servicedesk.models import Priority
from servicedesk.payloads import (
    enum_field,
    optional_enum,
    optional_id,
    page_args,
    required_object,
    search_terms,
    text_field,
)


def fails(fn, *args) -> str:  # noqa: ANN001
    with pytest.raises(HttpError) as caught:
        fn(*args)
    assert caught.value.status == 422 and caught.value.code == "validation_error"
    return caught.value.message


def test_page_args_defaults_and_bounds() -> None:
    assert page_args({}) == (1, 25)
    assert page_args({"page": "3", "per_page": "100"}) == (3, 100)
    assert fails(page_args, {"per_page": "101"}) == "per_page: expected an integer >= 1 and <= 100"
    assert fails(page_args, {"page": "0"}).startswith("page:")
    assert fails(page_args, {"page": "two"}).startswith("page:")
    assert fails(page_args, {"page": "-1"}).startswith("page:")


def test_enums() -> None:
    assert enum_field({"priority": "high"}, "priority", Priority) is Priority.HIGH
    message = fails(enum_field, {"priority": "urgent"}, "priority", Priority)
    assert message == "priority: expected one of critical, high, medium, low"
    fails(enum_field, {"priority": 3}, "priority", Priority)
    fails(enum_field, {}, "priority", Priority)
    assert optional_enum({}, "priority", Priority) is None
    assert optional_enum({"priority": ""}, "priority", Priority) is None


def test_ids() -> None:
    assert optional_id({"assignee_id": "12"}, "assignee_id") == 12
    assert optional_id({"assignee_id": 12}, "assignee_id") == 12
    assert optional_id({"assignee_id": None}, "assignee_id") is None
    assert optional_id({}, "assignee_id") is None
    for bad in ("0", "x", True, 1.5, -3):
        fails(optional_id, {"assignee_id": bad}, "assignee_id")


def test_text_and_objects() -> None:
    assert text_field({"title": "  Hi  "}, "title", max_length=5) == "Hi"
    for bad in ({"title": ""}, {"title": "   "}, {"title": 5}, {}, {"title": "x" * 6}):
        with pytest.raises(HttpError):
            text_field(bad, "title", max_length=5)
    assert required_object({"a": 1}) == {"a": 1}
    assert fails(required_object, [1]) == "body: expected a JSON object"


def test_search_terms() -> None:
    assert search_terms({"q": "VPN drops, every 10-minutes!"}) == (
        "vpn", "drops", "every", "10", "minutes"
    )  # fmt: skip
    assert len(search_terms({"q": " ".join(f"w{i}" for i in range(40))})) == 16
    fails(search_terms, {"q": "  ?! "})
    fails(search_terms, {})
