from datetime import UTC, datetime, timedelta, timezone

import pytest
from servicedesk.timestamps import format_ts, parse_ts, utcnow


def test_format_is_fixed_width_utc_with_milliseconds() -> None:
    value = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert format_ts(value) == "2024-05-01T12:00:00.123Z"
    assert format_ts(datetime(2024, 5, 1, tzinfo=UTC)) == "2024-05-01T00:00:00.000Z"


def test_other_zones_are_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=2))
    assert format_ts(datetime(2024, 5, 1, 14, 0, tzinfo=paris)) == "2024-05-01T12:00:00.000Z"


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_ts(datetime(2024, 5, 1))


def test_round_trip_and_string_order_is_time_order() -> None:
    start = utcnow()
    times = [start + timedelta(milliseconds=n * 997) for n in range(-50, 50)]
    texts = [format_ts(t) for t in times]
    assert sorted(texts) == texts
    assert {len(t) for t in texts} == {24}
    assert parse_ts(texts[0]) == times[0].replace(microsecond=times[0].microsecond // 1000 * 1000)
