import pytest
from prometheus_client import CollectorRegistry
from servicedesk.cache.memory import MemoryCache, TtlLru
from servicedesk.metrics import Metrics

pytestmark = pytest.mark.anyio


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_their_ttl() -> None:
    clock = FakeClock()
    lru: TtlLru[str, int] = TtlLru(max_entries=10, ttl=30, clock=clock)
    lru.set("a", 1)
    lru.set("b", 2, ttl=5)
    clock.now += 4.9
    assert (lru.get("a"), lru.get("b")) == (1, 2)
    clock.now += 0.2
    assert (lru.get("a"), lru.get("b")) == (1, None)
    clock.now += 25
    assert lru.get("a") is None
    assert len(lru) == 0


def test_least_recently_used_goes_first() -> None:
    lru: TtlLru[str, int] = TtlLru(max_entries=3, ttl=30, clock=FakeClock())
    for key, value in (("a", 1), ("b", 2), ("c", 3)):
        lru.set(key, value)
    assert lru.get("a") == 1  # a is now the most recent
    lru.set("d", 4)
    assert lru.get("b") is None
    assert [lru.get(k) for k in ("a", "c", "d")] == [1, 3, 4]
    lru.set("c", 30)  # overwrite refreshes too
    lru.set("e", 5)
    assert lru.get("a") is None
    assert len(lru) == 3


def test_delete_and_clear() -> None:
    lru: TtlLru[str, int] = TtlLru(max_entries=3, ttl=30)
    lru.set("a", 1)
    lru.delete("a")
    lru.delete("missing")
    assert lru.get("a") is None
    lru.set("b", 2)
    lru.clear()
    assert len(lru) == 0


def test_max_entries_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TtlLru(max_entries=0, ttl=1)


async def test_memory_cache_counts_hits_and_misses() -> None:
    metrics = Metrics(CollectorRegistry())
    clock = FakeClock()
    cache = MemoryCache(metrics=metrics, ttl=30, max_entries=2, clock=clock)
    await cache.open()
    await cache.ping()
    assert await cache.get("ticket:1") is None
    await cache.set("ticket:1", b"{}")
    assert await cache.get("ticket:1") == b"{}"
    await cache.delete("ticket:1")
    assert await cache.get("ticket:1") is None
    await cache.set("ticket:2", b"x", ttl=1)
    clock.now += 2
    assert await cache.get("ticket:2") is None
    sample = metrics.registry.get_sample_value
    assert sample("servicedesk_cache_requests_total", {"result": "hit"}) == 1
    assert sample("servicedesk_cache_requests_total", {"result": "miss"}) == 3
    await cache.close()
