# ruff: noqa: E501  (BREAKS is a table: one break per line reads best)
"""For every rule: copy the bundled stack, break exactly what the rule guards, and see the finding.

Several breaks put back what the seed wrote (pool 10-50, PDB minAvailable 2, a LoadBalancer
Service, shared_buffers 2GB on staging's 2 GiB instance...): the checks must catch the seed's
contradictions again if someone "restores" them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.validate import Severity, all_rules, validate_stack

Mutation = Callable[[Path], None]


def replace(rel: str, old: str, new: str, count: int = 1) -> Mutation:
    def apply(stack: Path) -> None:
        path = stack / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, count))

    return apply


def regex(rel: str, pattern: str, new: str) -> Mutation:
    def apply(stack: Path) -> None:
        path = stack / rel
        text, n = re.subn(pattern, new, path.read_text(), flags=re.MULTILINE)
        assert n, f"{pattern!r} not in {rel}"
        path.write_text(text)

    return apply


def edit_yaml(rel: str, change: Callable[[Any], None]) -> Mutation:
    def apply(stack: Path) -> None:
        path = stack / rel
        doc = yaml.safe_load(path.read_text())
        change(doc)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))

    return apply


def both(*mutations: Mutation) -> Mutation:
    def apply(stack: Path) -> None:
        for m in mutations:
            m(stack)

    return apply


def app_container(doc: Any) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]["containers"][0]


def compose_service(name: str) -> Callable[[Callable[[dict[str, Any]], None]], Mutation]:
    def wrap(change: Callable[[dict[str, Any]], None]) -> Mutation:
        return edit_yaml(COMPOSE, lambda doc: change(doc["services"][name]))

    return wrap


DEPLOYMENT = "k8s/base/deployment.yaml"
HPA = "k8s/base/hpa.yaml"
PDB = "k8s/base/pdb.yaml"
CONFIGMAP = "k8s/base/configmap.yaml"
NETPOL = "k8s/base/networkpolicy.yaml"
COMPOSE = "compose/docker-compose.yml"
NGINX = "nginx/nginx.conf"


@dataclass(frozen=True)
class Break:
    rule_id: str
    case: str
    mutate: Mutation
    severity: Severity = Severity.ERROR


def _set_container(key: str, value: Any) -> Mutation:
    return edit_yaml(
        DEPLOYMENT, lambda d: app_container(d)["securityContext"].__setitem__(key, value)
    )


BREAKS = [
    Break(
        "schema.kubernetes",
        "unknown field",
        replace(DEPLOYMENT, "revisionHistoryLimit: 5", "revisionHistoryLimt: 5"),
    ),
    Break(
        "schema.compose",
        "unknown key",
        replace(COMPOSE, "shm_size: 256m", "shm_size: 256m\n    shared_memory: 1g"),
    ),
    Break(
        "structure.app-deployment",
        "container renamed",
        edit_yaml(DEPLOYMENT, lambda d: app_container(d).update(name="web")),
    ),
    # hardening, Kubernetes and compose
    Break("hardening.non-root", "k8s root uid", _set_container("runAsUser", 0)),
    Break(
        "hardening.non-root",
        "compose user root",
        compose_service("app")(lambda s: s.update(user="0:0")),
    ),
    Break("hardening.read-only-root", "k8s", _set_container("readOnlyRootFilesystem", False)),
    Break(
        "hardening.read-only-root", "compose", compose_service("app")(lambda s: s.pop("read_only"))
    ),
    Break(
        "hardening.no-privilege-escalation", "k8s", _set_container("allowPrivilegeEscalation", True)
    ),
    Break(
        "hardening.no-privilege-escalation",
        "compose",
        compose_service("app")(lambda s: s.pop("security_opt")),
    ),
    Break(
        "hardening.capabilities",
        "k8s add SYS_ADMIN",
        replace(DEPLOYMENT, 'add: ["NET_BIND_SERVICE"]', 'add: ["NET_BIND_SERVICE", "SYS_ADMIN"]'),
    ),
    Break(
        "hardening.capabilities",
        "compose keeps all",
        compose_service("app")(lambda s: s.pop("cap_drop")),
    ),
    Break(
        "hardening.writable-tmp",
        "k8s",
        replace(DEPLOYMENT, "            - name: tmp\n              mountPath: /tmp\n", ""),
        Severity.WARNING,
    ),
    Break(
        "hardening.writable-tmp",
        "compose",
        compose_service("app")(lambda s: s.pop("tmpfs")),
        Severity.WARNING,
    ),
    Break(
        "hardening.image-user",
        "root image",
        replace("app/Dockerfile", "USER 1001:1001", "USER root"),
    ),
    # probes
    Break(
        "probes.missing",
        "no readiness",
        edit_yaml(DEPLOYMENT, lambda d: app_container(d).pop("readinessProbe")),
    ),
    Break(
        "probes.endpoint",
        "wrong path",
        replace(DEPLOYMENT, "path: /api/health/live", "path: /healthz"),
    ),
    Break(
        "probes.startup-budget",
        "5 attempts",
        replace(DEPLOYMENT, "failureThreshold: 30", "failureThreshold: 5"),
    ),
    Break(
        "probes.liveness-stricter",
        "liveness 1 failure",
        edit_yaml(
            DEPLOYMENT, lambda d: app_container(d)["livenessProbe"].update(failureThreshold=1)
        ),
    ),
    Break(
        "probes.timeout",
        "timeout = period",
        edit_yaml(DEPLOYMENT, lambda d: app_container(d)["startupProbe"].update(timeoutSeconds=5)),
        Severity.WARNING,
    ),
    Break(
        "probes.compose-healthcheck",
        "nginx without",
        compose_service("nginx")(lambda s: s.pop("healthcheck")),
    ),
    Break(
        "probes.compose-healthcheck",
        "app start period",
        compose_service("app")(lambda s: s["healthcheck"].update(start_period="10s")),
    ),
    Break(
        "probes.compose-depends-on",
        "redis started only",
        compose_service("app")(
            lambda s: s["depends_on"]["redis"].update(condition="service_started")
        ),
    ),
    Break(
        "probes.image-healthcheck",
        "no HEALTHCHECK",
        regex("app/Dockerfile", r"^HEALTHCHECK .*\n.*\n", ""),
        Severity.WARNING,
    ),
    # resources, HPA, PDB
    Break(
        "resources.missing",
        "no memory limit",
        edit_yaml(DEPLOYMENT, lambda d: app_container(d)["resources"]["limits"].pop("memory")),
    ),
    Break(
        "resources.request-above-limit",
        "memory",
        edit_yaml(
            DEPLOYMENT, lambda d: app_container(d)["resources"]["requests"].update(memory="2Gi")
        ),
    ),
    Break(
        "resources.hpa-unreachable",
        "cpu 250 %",
        replace(HPA, "averageUtilization: 70", "averageUtilization: 250"),
    ),
    Break(
        "hpa.target",
        "wrong name",
        edit_yaml(HPA, lambda d: d["spec"]["scaleTargetRef"].update(name="servicedesk-web")),
    ),
    Break(
        "hpa.replicas",
        "replicas above max",
        edit_yaml(DEPLOYMENT, lambda d: d["spec"].update(replicas=12)),
        Severity.WARNING,
    ),
    Break(
        "pdb.blocks-disruption",
        "the seed's minAvailable 2",
        replace(PDB, "maxUnavailable: 1", "minAvailable: 2"),
    ),
    Break(
        "pdb.selector",
        "selects nothing",
        edit_yaml(PDB, lambda d: d["spec"]["selector"]["matchLabels"].update(app="other")),
    ),
    # rollouts
    Break(
        "rollout.readiness",
        "no readiness",
        edit_yaml(DEPLOYMENT, lambda d: app_container(d).pop("readinessProbe")),
    ),
    Break(
        "rollout.grace-covers-drain",
        "grace 5 s = drain 5 s",
        replace(DEPLOYMENT, "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: 5"),
    ),
    Break(
        "rollout.grace-covers-drain",
        "preStop sleep 25 s + drain 5 s = grace 30 s",
        edit_yaml(
            DEPLOYMENT,
            lambda d: app_container(d).update(
                lifecycle={"preStop": {"exec": {"command": ["sh", "-c", "sleep 25"]}}}
            ),
        ),
    ),
    Break(
        "rollout.grace-covers-drain",
        "compose: Docker's 10 s default, drain 12 s",
        both(
            compose_service("app")(lambda s: s.pop("stop_grace_period")),
            compose_service("app")(lambda s: s["environment"].update(SHUTDOWN_DRAIN_SECONDS="12")),
        ),
    ),
    Break(
        "rollout.max-unavailable",
        "maxUnavailable 1 under the PDB",
        replace(DEPLOYMENT, "maxUnavailable: 0", "maxUnavailable: 1"),
    ),
    Break(
        "rollout.max-unavailable",
        "maxSurge 0: no progress",
        replace(DEPLOYMENT, "maxSurge: 1", "maxSurge: 0"),
    ),
    Break(
        "pdb.missing",
        "no PDB",
        both(
            replace("k8s/base/kustomization.yaml", "  - pdb.yaml\n", ""),
            regex(
                "k8s/overlays/development/kustomization.yaml",
                r"  - patch: \|-\n      \$patch: delete\n      apiVersion: policy/v1\n(?:      .*\n)+",
                "",
            ),
        ),
        Severity.WARNING,
    ),
    # connection budget
    Break(
        "connections.db-peak",
        "the seed's pool max 50",
        replace(CONFIGMAP, 'DB_POOL_MAX: "7"', 'DB_POOL_MAX: "50"'),
    ),
    Break(
        "connections.db-peak", "more replicas", replace(HPA, "maxReplicas: 10", "maxReplicas: 20")
    ),
    Break(
        "connections.db-idle",
        "the seed's pool min 10",
        replace(CONFIGMAP, 'DB_POOL_MIN: "2"', 'DB_POOL_MIN: "10"'),
    ),
    Break(
        "connections.redis-peak",
        "few clients",
        replace("redis/redis.conf", "maxclients 10000", "maxclients 200"),
    ),
    # network policy
    Break(
        "netpol.missing",
        "selects nothing",
        edit_yaml(NETPOL, lambda d: d["spec"]["podSelector"]["matchLabels"].update(app="other")),
    ),
    Break(
        "netpol.ingress-proxy",
        "no nginx rule",
        edit_yaml(NETPOL, lambda d: d["spec"]["ingress"].pop(0)),
    ),
    Break(
        "netpol.ingress-scrape",
        "no prometheus rule",
        edit_yaml(NETPOL, lambda d: d["spec"]["ingress"].pop(1)),
    ),
    Break(
        "netpol.egress-dns",
        "the seed's policy",
        edit_yaml(NETPOL, lambda d: d["spec"]["egress"].pop(0)),
    ),
    Break(
        "netpol.egress-dns",
        "udp only",
        edit_yaml(NETPOL, lambda d: d["spec"]["egress"][0]["ports"].pop(1)),
    ),
    Break(
        "netpol.egress-postgres",
        "no postgres rule",
        edit_yaml(NETPOL, lambda d: d["spec"]["egress"].pop(1)),
    ),
    Break(
        "netpol.egress-redis",
        "no redis rule",
        edit_yaml(NETPOL, lambda d: d["spec"]["egress"].pop(2)),
    ),
    Break(
        "netpol.external-service",
        "the seed's LoadBalancer",
        replace("k8s/base/service.yaml", "type: ClusterIP", "type: LoadBalancer"),
    ),
    # storage
    Break(
        "storage.shared-volume",
        "ReadWriteOnce",
        replace("k8s/base/pvc.yaml", "[ReadWriteMany]", "[ReadWriteOnce]"),
    ),
    Break(
        "storage.uploads",
        "k8s elsewhere",
        both(
            replace(CONFIGMAP, '"/data/uploads"', '"/srv/uploads"'),
            replace(COMPOSE, 'UPLOADS_DIR: "/data/uploads"', 'UPLOADS_DIR: "/srv/uploads"'),
        ),
    ),
    Break(
        "storage.uploads", "compose no volume", compose_service("app")(lambda s: s.pop("volumes"))
    ),
    # settings and drift
    Break(
        "settings.required",
        "no CACHE_TTL_SECONDS",
        both(
            regex(CONFIGMAP, r'^  CACHE_TTL_SECONDS: "30"\n', ""),
            regex(COMPOSE, r'^      CACHE_TTL_SECONDS: "30"\n', ""),
        ),
    ),
    Break(
        "settings.secret-literal",
        "k8s literal token",
        edit_yaml(
            DEPLOYMENT,
            lambda d: app_container(d)["env"].__setitem__(
                1, {"name": "ADMIN_TOKEN", "value": "hunter2"}
            ),
        ),
    ),
    Break(
        "settings.secret-literal",
        "compose literal password",
        regex(
            COMPOSE,
            r"servicedesk:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432",
            "servicedesk:hunter2@postgres:5432",
        ),
    ),
    Break(
        "settings.seed-values",
        "acquire timeout 30 s",
        both(
            replace(
                CONFIGMAP,
                'DB_POOL_ACQUIRE_TIMEOUT_SECONDS: "5"',
                'DB_POOL_ACQUIRE_TIMEOUT_SECONDS: "30"',
            ),
            replace(
                COMPOSE,
                'DB_POOL_ACQUIRE_TIMEOUT_SECONDS: "5"',
                'DB_POOL_ACQUIRE_TIMEOUT_SECONDS: "30"',
            ),
        ),
    ),
    Break(
        "drift.settings-keys",
        "k8s-only key",
        replace(
            CONFIGMAP,
            '  UPLOADS_DIR: "/data/uploads"\n',
            '  UPLOADS_DIR: "/data/uploads"\n  FEATURE_X: "1"\n',
        ),
    ),
    Break(
        "drift.settings-values",
        "compose TTL",
        replace(COMPOSE, 'CACHE_TTL_SECONDS: "30"', 'CACHE_TTL_SECONDS: "60"'),
    ),
    Break(
        "drift.settings-values",
        "overlay patch",
        replace(
            "k8s/overlays/production/kustomization.yaml",
            "patches:\n",
            'patches:\n  - target: {kind: ConfigMap, name: servicedesk-config}\n    patch: |-\n      - {op: replace, path: /data/REDIS_POOL_SIZE, value: "20"}\n      - {op: replace, path: /data/CACHE_MAX_ENTRIES, value: "500"}\n',
        ),
    ),
    Break(
        "drift.compose-resources",
        "4 cpus",
        compose_service("app")(lambda s: s["deploy"]["resources"]["limits"].update(cpus="4")),
    ),
    # memory against instance sizes
    Break(
        "memory.postgres-shared-buffers",
        "the seed's 2GB on staging",
        replace(
            "postgres/postgresql.staging.conf", "shared_buffers = 512MB", "shared_buffers = 2GB"
        ),
    ),
    Break(
        "memory.postgres-shared-buffers",
        "too small",
        replace("postgres/postgresql.conf", "shared_buffers = 2GB", "shared_buffers = 512MB"),
        Severity.WARNING,
    ),
    Break(
        "memory.postgres-effective-cache",
        "beyond the instance",
        replace(
            "postgres/postgresql.conf", "effective_cache_size = 6GB", "effective_cache_size = 12GB"
        ),
    ),
    Break(
        "memory.postgres-total",
        "work_mem 64MB",
        replace("postgres/postgresql.conf", "work_mem = 4MB", "work_mem = 64MB"),
    ),
    Break(
        "memory.redis-maxmemory",
        "the seed's 2gb on staging",
        replace("redis/redis.staging.conf", "maxmemory 256mb", "maxmemory 2gb"),
    ),
    Break("memory.redis-maxmemory", "unset", regex("redis/redis.conf", r"^maxmemory 2gb\n", "")),
    Break(
        "memory.redis-policy",
        "noeviction",
        replace("redis/redis.conf", "maxmemory-policy allkeys-lru", "maxmemory-policy noeviction"),
        Severity.WARNING,
    ),
    # compose
    Break(
        "compose.profiles",
        "pgadmin always on",
        compose_service("pgadmin")(lambda s: s.pop("profiles")),
    ),
    Break(
        "compose.profiles",
        "redis behind a profile",
        compose_service("redis")(lambda s: s.update(profiles=["tools"])),
    ),
    Break(
        "compose.image-override",
        "pinned literally",
        replace(COMPOSE, "${PGADMIN_IMAGE:-dpage/pgadmin4:8}", "dpage/pgadmin4:8"),
        Severity.WARNING,
    ),
    Break(
        "compose.env-example",
        "undocumented variable",
        regex("compose/.env.example", r"^GRAFANA_ADMIN_PASSWORD=.*\n", ""),
    ),
    Break("compose.env-example", ".env not ignored", replace("compose/.gitignore", ".env\n", "")),
    # configuration files
    Break(
        "nginx.tls",
        "TLS 1.2 allowed",
        replace(NGINX, "ssl_protocols TLSv1.3;", "ssl_protocols TLSv1.2 TLSv1.3;"),
    ),
    Break("nginx.tls", "no stapling", replace(NGINX, "ssl_stapling on;", "ssl_stapling off;")),
    Break(
        "nginx.static-cache",
        "short max-age",
        replace(
            NGINX,
            'location /static/ {\n            proxy_pass http://$app_upstream;\n            proxy_hide_header Cache-Control;\n            add_header Cache-Control "public, max-age=31536000, immutable";',
            'location /static/ {\n            proxy_pass http://$app_upstream;\n            add_header Cache-Control "public, max-age=60";',
        ),
    ),
    Break(
        "nginx.proxy", "wrong upstream", replace(NGINX, "set $app_upstream app:3000;",
                                                 "set $app_upstream web:8000;")
    ),
    Break("nginx.proxy", "no compression", replace(NGINX, "gzip on;", "gzip off;")),
    Break(
        "prometheus.scrape",
        "wrong path",
        replace(
            "prometheus/prometheus.yml", "metrics_path: /api/metrics", "metrics_path: /metrics"
        ),
    ),
    Break(
        "grafana.dashboards",
        "provider elsewhere",
        replace(
            "grafana/provisioning/dashboards/servicedesk.yml",
            "path: /var/lib/grafana/dashboards",
            "path: /etc/dashboards",
        ),
    ),
    Break(
        "datadog.agent",
        "wrong endpoint",
        replace(
            "datadog/conf.d/openmetrics.d/conf.yaml",
            "http://app:3000/api/metrics",
            "http://app:3000/metrics",
        ),
    ),
    Break(
        "datadog.agent",
        "no APM",
        compose_service("datadog")(lambda s: s["environment"].update(DD_APM_ENABLED="false")),
    ),
    Break(  # a rule family meets a value of the wrong type: a finding, not a crash
        "validate.unchecked",
        "replicas not a number",
        replace("k8s/base/deployment.yaml", "\n  replicas: 3\n", '\n  replicas: "three"\n'),
    ),
]


@pytest.mark.parametrize("brk", BREAKS, ids=[f"{b.rule_id}[{b.case}]" for b in BREAKS])
def test_breaking_the_rule_is_found(brk: Break, stack_copy: Path) -> None:
    brk.mutate(stack_copy)
    report = validate_stack(stack_copy)
    found = [f for f in report.findings if f.rule_id == brk.rule_id]
    assert found, [f"{f.rule_id}: {f.message}" for f in report.findings]
    assert any(f.severity is brk.severity for f in found), [(f.severity, f.message) for f in found]
    assert all(f.message and f.fix and f.file and f.object and f.targets for f in found)
    assert report.has_errors == any(f.severity is Severity.ERROR for f in report.findings)


def test_every_rule_has_a_break() -> None:
    assert {r.id for r in all_rules()} == {b.rule_id for b in BREAKS}


def test_a_pool_over_its_budget_names_the_pods_the_key_and_the_total(stack_copy: Path) -> None:
    replace(CONFIGMAP, 'DB_POOL_MIN: "2"', 'DB_POOL_MIN: "20"')(stack_copy)
    replace(CONFIGMAP, 'DB_POOL_MAX: "7"', 'DB_POOL_MAX: "20"')(stack_copy)
    replace("redis/redis.conf", "maxclients 10000", "maxclients 200")(stack_copy)
    found = {f.rule_id: f.message for f in validate_stack(stack_copy).findings
             if f.rule_id.startswith("connections.") and "base" in f.targets}
    peak, idle = found["connections.db-peak"], found["connections.db-idle"]
    redis = found["connections.redis-peak"]
    assert re.match(r"11 pods \(10 max replicas \+ 1 surge\) x DB_POOL_MAX 20 = 220 "
                    r"connections > budget \d+ \(max_connections 100", peak), peak
    assert re.match(r"11 pods \(10 max replicas \+ 1 surge\) x DB_POOL_MIN 20 = 220 "
                    r"connections held even when idle > budget \d+ \(max_connections", idle), idle
    assert redis == ("11 pods (10 max replicas + 1 surge) x REDIS_POOL_SIZE 20 = 220 > maxclients "
                     "200 - headroom 50 (redis/redis.conf)"), redis


def test_a_pool_minimum_above_its_maximum_is_said_instead_of_the_idle_budget(
    stack_copy: Path,
) -> None:
    replace(CONFIGMAP, 'DB_POOL_MIN: "2"', 'DB_POOL_MIN: "8"')(stack_copy)
    idle = [f.message for f in validate_stack(stack_copy).findings
            if f.rule_id == "connections.db-idle"]
    assert idle and all(m == "DB_POOL_MIN 8 > DB_POOL_MAX 7" for m in idle), idle


def test_a_percentage_budget_rounds_up_as_the_disruption_controller_does(
    stack_copy: Path,
) -> None:
    """maxUnavailable 25 % of the HPA's 2 pods is 0.5 pod, which Kubernetes rounds up to 1: a
    drain may go ahead at the minimum, so the budget blocks nothing."""
    replace(PDB, "maxUnavailable: 1", 'maxUnavailable: "25%"')(stack_copy)
    report = validate_stack(stack_copy)
    assert [f.message for f in report.findings if f.rule_id == "pdb.blocks-disruption"] == []
    replace(PDB, 'maxUnavailable: "25%"', 'maxUnavailable: "0%"')(stack_copy)
    report = validate_stack(stack_copy)
    assert [f.rule_id for f in report.findings if f.rule_id == "pdb.blocks-disruption"]
