"""``python -m servicedesk [serve|migrate|seed]``; settings come from the environment."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import __version__
from .logs import configure_logging
from .settings import Settings, SettingsError, load_settings

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {raw!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m servicedesk",
        description="ServiceDesk reference app. Configuration: environment variables only "
        "(PORT, DATABASE_URL, DB_POOL_MAX, CACHE_URL, ...; see servicedesk/settings.py).",
    )
    parser.add_argument("--version", action="version", version=f"servicedesk {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{serve,migrate,seed}")
    commands.add_parser("serve", help="run the HTTP server (default)")
    commands.add_parser("migrate", help="create the database schema (idempotent)")
    seed = commands.add_parser("seed", help="insert realistic tickets, users and comments")
    seed.add_argument("--tickets", type=_positive_int, default=5000, help="default: 5000")
    seed.add_argument("--agents", type=_positive_int, default=20, help="default: 20")
    seed.add_argument("--customers", type=_positive_int, default=200, help="default: 200")
    seed.add_argument(
        "--tokens-out",
        type=Path,
        required=True,
        help='write {"admin": token, "agents": [...], "customers": [...]} here (mode 0600)',
    )
    seed.add_argument(
        "--seed", type=int, default=None, help="make the data and tokens deterministic"
    )
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(os.environ if environ is None else environ)
    except SettingsError as exc:
        print(f"servicedesk: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level, settings.log_format)
    command = args.command or "serve"
    try:
        if command == "serve":
            from .server import serve

            return serve(settings)
        if command == "migrate":
            return asyncio.run(_migrate(settings))
        from .seed import SeedError, SeedSpec, seed_database

        spec = SeedSpec(
            tickets=args.tickets, agents=args.agents, customers=args.customers, seed=args.seed
        )
        try:
            asyncio.run(seed_database(settings, spec, args.tokens_out))
        except SeedError as exc:
            print(f"servicedesk: error: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from .server import ServerError
        from .store import StoreError

        if isinstance(exc, ServerError | StoreError):
            print(f"servicedesk: error: {exc}", file=sys.stderr)
            return EXIT_FAILURE
        raise


async def _migrate(settings: Settings) -> int:
    from .metrics import Metrics
    from .store import build_store

    store = build_store(settings.for_cli(), Metrics())
    await store.open()
    try:
        await store.migrate()
    finally:
        await store.close()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
