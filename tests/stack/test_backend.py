"""What every backend hands back: Leftovers says what `down` could not remove, or is empty."""

from __future__ import annotations

from harness.stack.backend import Leftovers


def test_leftovers_are_false_when_empty_and_say_each_kind_with_its_names():
    assert not Leftovers() and not Leftovers({"container": (), "volume": ()})
    left = Leftovers({"container": ("21eadc7ebaee",), "network": (),
                      "volume": ("servicedesk-redis-bf5c", "servicedesk-postgres-bf5c")})
    assert left
    assert left.describe() == ("container 21eadc7ebaee; "
                               "volume servicedesk-redis-bf5c, servicedesk-postgres-bf5c")
