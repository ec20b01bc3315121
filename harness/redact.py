"""Keep secrets out of logs, reports and results.json."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from harness.settings import SECRET_ENV_VARS

__all__ = ["redact", "redact_url"]

_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]+):(?P<password>[^@/\s]+)@",
                       re.IGNORECASE)


def redact_url(url: str) -> str:
    """postgresql://app:s3cret@db/x -> postgresql://app:***@db/x"""
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", url)


def redact(text: str, environ: Mapping[str, str] | None = None,
           extra_secrets: Iterable[str] = ()) -> str:
    """The text with every secret value from the environment (and `extra_secrets`) masked."""
    env = os.environ if environ is None else environ
    values = [env.get(name, "") for name in SECRET_ENV_VARS] + list(extra_secrets)
    for value in sorted((v for v in values if v and len(v) >= 4), key=len, reverse=True):
        text = text.replace(value, "***")
    return redact_url(text)
