"""TICKET_BODY_BYTES (the Redis sizing input) is measured again from the reference app."""

from __future__ import annotations

import asyncio
import statistics
import sys
from pathlib import Path

from harness import paths
from harness.plan.capacity import TICKET_BODY_BYTES

ADMIN = "admin-token-0123456789abcdef"


async def _mean_ticket_body(folder: Path) -> float:
    app_dir = str(paths.app_dir())
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    import httpx
    from prometheus_client import CollectorRegistry
    from servicedesk.app import create_app
    from servicedesk.metrics import Metrics
    from servicedesk.seed import SeedSpec, seed_database
    from servicedesk.settings import load_settings

    settings = load_settings({
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite'}", "ADMIN_TOKEN": ADMIN,
        "SLA_SWEEP_INTERVAL_SECONDS": "3600", "LOG_LEVEL": "warning",
    })
    await seed_database(settings, SeedSpec(tickets=300, agents=5, customers=50, seed=7),
                        folder / "tokens.json")
    app = create_app(settings, metrics=Metrics(CollectorRegistry()))
    await app.startup()
    sizes = []
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sd.test") as client:
            for ticket in range(1, 301):
                response = await client.get(f"/api/tickets/{ticket}",
                                            headers={"Authorization": f"Bearer {ADMIN}"})
                assert response.status_code == 200, response.text
                sizes.append(len(response.content))
    finally:
        await app.shutdown()
    return statistics.fmean(sizes)


def test_ticket_body_size_still_matches_the_app(tmp_path: Path) -> None:
    measured = asyncio.run(_mean_ticket_body(tmp_path))
    assert abs(measured - TICKET_BODY_BYTES) <= 0.25 * TICKET_BODY_BYTES, (
        f"GET /api/tickets/{{id}} bodies now average {measured:.0f} bytes; update "
        "TICKET_BODY_BYTES in harness/plan/capacity.py")
