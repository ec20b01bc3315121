"""The configuration files the compose stack mounts keep the seed's promises: NGINX (TLS 1.3 only
with the seed's session settings, the static cache headers, compression, proxy to the app),
Prometheus scraping /api/metrics, Grafana loading the generated dashboards, Datadog's
OpenMetrics check, logs and APM."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from harness.config.k8s import APP_PORT
from harness.validate.compose import service_environment
from harness.validate.confs import NginxDirective, parse_nginx
from harness.validate.model import Finding, Rule, Severity, Stack

__all__ = ["RULES", "check"]

NGINX_CONF = "nginx/nginx.conf"
PROMETHEUS_YML = "prometheus/prometheus.yml"
GRAFANA_DASHBOARDS_DIR = "grafana/provisioning/dashboards/"
DATADOG_OPENMETRICS = "datadog/conf.d/openmetrics.d/conf.yaml"
APP_UPSTREAM = f"app:{APP_PORT}"
METRICS_PATH = "/api/metrics"
SEED_TLS = {
    "ssl_protocols": ("TLSv1.3",),
    "ssl_ciphers": ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",),
    "ssl_prefer_server_ciphers": ("off",),
    "ssl_session_cache": ("shared:SSL:10m",),
    "ssl_session_timeout": ("10m",),
    "ssl_stapling": ("on",),
    "ssl_stapling_verify": ("on",),
}
STATIC_PREFIXES = ("/_next/static/", "/static/")
IMMUTABLE = "public, max-age=31536000, immutable"

NGINX_TLS = Rule(
    "nginx.tls",
    Severity.ERROR,
    "TLS servers use TLS 1.3 only with the seed's ciphers, session cache/timeout and OCSP stapling",
    "set the directive to the seed's value in stack/nginx/nginx.conf",
)
NGINX_STATIC_CACHE = Rule(
    "nginx.static-cache",
    Severity.ERROR,
    f'/_next/static/ and /static/ are served with Cache-Control "{IMMUTABLE}"',
    f'add_header Cache-Control "{IMMUTABLE}"; in both locations',
)
NGINX_PROXY = Rule(
    "nginx.proxy",
    Severity.ERROR,
    "NGINX proxies / to the app (app:3000) and compresses responses",
    "location / { proxy_pass http://<upstream with server app:3000, or a variable set to "
    "app:3000>; } and gzip on",
)
PROMETHEUS_SCRAPE = Rule(
    "prometheus.scrape",
    Severity.ERROR,
    "Prometheus scrapes every app replica's /api/metrics on port 3000",
    "add a scrape job: metrics_path /api/metrics, dns_sd_configs "
    "{names: [app], type: A, port: 3000}",
)
GRAFANA_DASHBOARDS = Rule(
    "grafana.dashboards",
    Severity.ERROR,
    "Grafana provisions the generated dashboards from the folder compose mounts from dashboards/",
    "point the file provider's options.path at the mount target of ../../dashboards",
)
DATADOG_AGENT = Rule(
    "datadog.agent",
    Severity.ERROR,
    "the Datadog agent checks /api/metrics (OpenMetrics) and has logs and APM on",
    "openmetrics_endpoint: http://app:3000/api/metrics; DD_LOGS_ENABLED and DD_APM_ENABLED true",
)
RULES = (
    NGINX_TLS,
    NGINX_STATIC_CACHE,
    NGINX_PROXY,
    PROMETHEUS_SCRAPE,
    GRAFANA_DASHBOARDS,
    DATADOG_AGENT,
)


def _args(block: tuple[NginxDirective, ...], name: str) -> tuple[str, ...] | None:
    found = [d for d in block if d.name == name]
    return found[-1].args if found else None


def _check_nginx(stack: Stack) -> Iterator[Finding]:
    text = stack.text(NGINX_CONF)
    if text is None:
        yield NGINX_PROXY.finding(
            target="compose", file=NGINX_CONF, object="nginx.conf", message="missing"
        )
        return
    top = parse_nginx(text, NGINX_CONF)
    http = next((d for d in top if d.name == "http"), NginxDirective("http", (), ()))
    http_block = http.block or ()
    servers = http.find("server")
    upstreams = {d.args[0]: d for d in http.find("upstream") if d.args}
    tls_servers = [s for s in servers if any("ssl" in d.args for d in s.find("listen"))]
    if not tls_servers:
        yield NGINX_TLS.finding(
            target="compose", file=NGINX_CONF, object="http", message="no server listens with ssl"
        )
    for server in tls_servers:
        obj = f"server listen {' '.join(server.find('listen')[0].args)}"
        for name, want in SEED_TLS.items():
            have = _args(server.block or (), name) or _args(http_block, name)
            if have != want:
                yield NGINX_TLS.finding(
                    target="compose",
                    file=NGINX_CONF,
                    object=obj,
                    message=f"{name} is {have and ' '.join(have)!r}; want {' '.join(want)!r}",
                )
        locations = {d.args[-1]: d for d in server.find("location") if d.args}
        for prefix in STATIC_PREFIXES:
            loc = locations.get(prefix)
            headers = [d.args for d in (loc.block or ()) if d.name == "add_header"] if loc else []
            if not any(h[:2] == ("Cache-Control", IMMUTABLE) for h in headers):
                yield NGINX_STATIC_CACHE.finding(
                    target="compose",
                    file=NGINX_CONF,
                    object=f"{obj} location {prefix}",
                    message=f'no Cache-Control "{IMMUTABLE}" for {prefix}',
                )
        root = locations.get("/")
        proxy = _args(root.block or (), "proxy_pass") if root else None
        target = (proxy or ("",))[0].removeprefix("http://").rstrip("/")
        if target.startswith("$"):  # `set $var app:3000;` in the location or the server
            assigned = [d.args for d in (*(server.block or ()), *((root.block or ()) if root
                                                                   else ()))
                        if d.name == "set" and len(d.args) == 2 and d.args[0] == target]
            target = assigned[-1][1] if assigned else target
        servers_of = {
            a
            for d in (upstreams[target].find("server") if target in upstreams else ())
            for a in d.args[:1]
        }
        if target != APP_UPSTREAM and APP_UPSTREAM not in servers_of:
            yield NGINX_PROXY.finding(
                target="compose",
                file=NGINX_CONF,
                object=f"{obj} location /",
                message=f"proxy_pass {proxy!r} does not reach {APP_UPSTREAM}",
            )
    if _args(http_block, "gzip") != ("on",):
        yield NGINX_PROXY.finding(
            target="compose", file=NGINX_CONF, object="http", message="gzip is not on"
        )


def _yaml(stack: Stack, path: str) -> Any:
    text = stack.text(path)
    if text is None:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _scrapes_app(job: Mapping[str, Any]) -> bool:
    if job.get("metrics_path") != METRICS_PATH:
        return False
    for sd in job.get("dns_sd_configs") or []:
        if "app" in (sd.get("names") or []) and int(sd.get("port", 0)) == APP_PORT:
            return True
    for sc in job.get("static_configs") or []:
        if any(
            str(t).startswith(APP_UPSTREAM) or str(t).endswith(f":{APP_PORT}")
            for t in sc.get("targets") or []
        ):
            return True
    return False


def _check_prometheus(stack: Stack) -> Iterator[Finding]:
    doc = _yaml(stack, PROMETHEUS_YML)
    jobs = (doc or {}).get("scrape_configs") or [] if isinstance(doc, Mapping) else []
    if not any(isinstance(j, Mapping) and _scrapes_app(j) for j in jobs):
        yield PROMETHEUS_SCRAPE.finding(
            target="compose",
            file=PROMETHEUS_YML,
            object="scrape_configs",
            message=f"no job scrapes {METRICS_PATH} on the app's port {APP_PORT}",
        )


def _check_grafana(stack: Stack) -> Iterator[Finding]:
    grafana = stack.compose.service("grafana") or {}
    mounts = [str(v).split(":") for v in grafana.get("volumes") or [] if isinstance(v, str)]
    dashboards = [
        m[1]
        for m in mounts
        if len(m) > 1 and m[0].rstrip("/").endswith("dashboards") and "provisioning" not in m[0]
    ]
    paths = []
    for rel, _ in sorted(stack.texts.items()):
        if rel.startswith(GRAFANA_DASHBOARDS_DIR):
            doc = _yaml(stack, rel) or {}
            for provider in doc.get("providers") or []:
                paths.append(str((provider.get("options") or {}).get("path", "")).rstrip("/"))
    if not dashboards or not any(p == dashboards[0].rstrip("/") for p in paths):
        yield GRAFANA_DASHBOARDS.finding(
            target="compose",
            file=GRAFANA_DASHBOARDS_DIR,
            object="providers",
            message=f"provider paths {paths} do not match the compose dashboards mount "
            f"{dashboards or '(none)'}",
        )


def _check_datadog(stack: Stack) -> Iterator[Finding]:
    doc = _yaml(stack, DATADOG_OPENMETRICS) or {}
    endpoints = [
        str(i.get("openmetrics_endpoint", ""))
        for i in doc.get("instances") or []
        if isinstance(i, Mapping)
    ]
    if f"http://{APP_UPSTREAM}{METRICS_PATH}" not in endpoints:
        yield DATADOG_AGENT.finding(
            target="compose",
            file=DATADOG_OPENMETRICS,
            object="instances",
            message=f"openmetrics_endpoint {endpoints} is not http://{APP_UPSTREAM}{METRICS_PATH}",
        )
    agent = stack.compose.service("datadog")
    env = service_environment(agent) if agent else {}
    for key in ("DD_LOGS_ENABLED", "DD_APM_ENABLED"):
        if env.get(key, "").lower() != "true":
            yield DATADOG_AGENT.finding(
                stack.compose.where("datadog"),
                message=f"{key} is not true",
            )


def check(stack: Stack) -> Iterator[Finding]:
    yield from _check_nginx(stack)
    yield from _check_prometheus(stack)
    yield from _check_grafana(stack)
    yield from _check_datadog(stack)
