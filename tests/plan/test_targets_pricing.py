"""Each environment's replica bounds from the overlays; the dated price table."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import paths
from harness.errors import ConfigError
from harness.plan.pricing import load_prices, monthly_cost
from harness.plan.targets import load_targets


def test_bundled_targets() -> None:
    targets = {t.target: t for t in load_targets(paths.stack_dir())}
    bounds = {k: (t.autoscaled, t.min_replicas, t.max_replicas) for k, t in targets.items()}
    assert bounds == {
        "base": (True, 2, 10),
        "overlays/production": (True, 3, 5),
        "overlays/staging": (True, 1, 2),
        "overlays/development": (False, 1, 1),
        "compose": (False, 1, 1),
    }
    assert targets["base"].max_surge == 1 and targets["compose"].max_surge == 0
    assert targets["overlays/production"].environment.postgres_instance == "db.t3.large"
    assert targets["overlays/staging"].environment.redis_instance == "cache.t3.micro"


def test_bundled_prices_are_dated_and_cover_the_instances() -> None:
    prices = load_prices(paths.stack_dir())
    assert prices.as_of and prices.region == "us-east-1" and prices.currency == "USD"
    for name in ("db.t3.large", "db.t3.small", "cache.t3.medium", "cache.t3.micro"):
        assert prices.instance_hourly(name) > 0
    with pytest.raises(ConfigError, match="no price"):
        prices.instance_hourly("db.r6g.16xlarge")


def test_monthly_cost_lines_by_hand() -> None:
    prices = load_prices(paths.stack_dir())
    lines = monthly_cost(prices, pods=2, pod_cpu_cores=0.5, pod_memory_gib=0.5,
                         database="db.t3.small", cache=None, cluster=False)
    assert [line.item for line in lines] == ["2 app pods (0.5 vCPU, 0.5 GiB requested)",
                                             "PostgreSQL db.t3.small"]
    assert lines[0].monthly == round(2 * (0.5 * 0.04048 + 0.5 * 0.004445) * 730, 2)
    assert lines[1].monthly == round(0.036 * 730, 2)


@pytest.mark.parametrize("text, field", [
    ("version: 2\n", "version"),
    ("version: 1\nas_of: '2024'\nregion: r\ncurrency: USD\n", "instances, pods and cluster"),
    ("version: 1\nas_of: '2024'\nregion: r\ncurrency: USD\ninstances: {a: -1}\npods: {}\n"
     "cluster: {}\n", "instances -> a"),
    ("[1, 2", "invalid YAML"),
])
def test_bad_price_tables_name_the_field(tmp_path: Path, text: str, field: str) -> None:
    (tmp_path / "pricing.yaml").write_text(text)
    with pytest.raises(ConfigError, match=field):
        load_prices(tmp_path)
