import pytest

from harness.config.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90.0), ("90", 90.0), ("45s", 45.0), ("2m", 120.0), ("1h30m", 5400.0),
     ("250ms", 0.25), ("1m30s", 90.0), ("30d", 2592000.0), (" 5M ", 300.0), (1.5, 1.5)],
)
def test_parses_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "5x", "m5", "1h-2m", -3, "-4", True, None, [1]])
def test_rejects_what_is_not_a_duration(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("seconds", "text"), [(45, "45s"), (300, "5m"), (90, "1m30s"), (3720, "1h02m"), (0, "0s")]
)
def test_formats_durations(seconds, text):
    assert format_duration(seconds) == text
