"""NetworkPolicy lets the app do what it needs and nothing keeps its front door shut: ingress from
the NGINX ingress controller and the Prometheus scrape on 3000; egress to DNS, PostgreSQL and
Redis; no LoadBalancer/NodePort Service whose traffic the policy would drop."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.config.k8s import APP_PORT
from harness.validate.model import Finding, K8sObject, RenderedTarget, Rule, Severity, Stack, Where
from harness.validate.rules.k8s import app_deployment, pod_labels, selector_matches

__all__ = ["RULES", "check"]

MISSING = Rule(
    "netpol.missing",
    Severity.ERROR,
    "a NetworkPolicy selects the app's pods",
    "add a NetworkPolicy whose podSelector matches the app's pod labels",
)
INGRESS_PROXY = Rule(
    "netpol.ingress-proxy",
    Severity.ERROR,
    "ingress from the NGINX ingress controller on 3000 is admitted",
    "admit from: podSelector {app: nginx-ingress} (or the ingress-nginx namespace) on TCP 3000",
)
INGRESS_SCRAPE = Rule(
    "netpol.ingress-scrape",
    Severity.ERROR,
    "the Prometheus scrape of /api/metrics on 3000 is admitted",
    "admit from: namespaceSelector monitoring + podSelector app.kubernetes.io/name: prometheus "
    "on TCP 3000",
)
EGRESS_DNS = Rule(
    "netpol.egress-dns",
    Severity.ERROR,
    "egress to DNS (53 UDP and TCP) is allowed, else no service name resolves",
    "allow egress to kube-dns in kube-system on UDP and TCP 53",
)
EGRESS_POSTGRES = Rule(
    "netpol.egress-postgres",
    Severity.ERROR,
    "egress to PostgreSQL on 5432 is allowed",
    "allow egress to podSelector {app: postgres} (or the database subnet) on TCP 5432",
)
EGRESS_REDIS = Rule(
    "netpol.egress-redis",
    Severity.ERROR,
    "egress to Redis on 6379 is allowed",
    "allow egress to podSelector {app: redis} (or the cache subnet) on TCP 6379",
)
EXTERNAL_SERVICE = Rule(
    "netpol.external-service",
    Severity.ERROR,
    "no LoadBalancer/NodePort Service exposes pods whose policy drops outside traffic (seed: "
    "LB + policy)",
    "make the Service ClusterIP and publish through the ingress controller, or admit the "
    "load balancer's source ranges on the target port",
)
RULES = (
    MISSING,
    INGRESS_PROXY,
    INGRESS_SCRAPE,
    EGRESS_DNS,
    EGRESS_POSTGRES,
    EGRESS_REDIS,
    EXTERNAL_SERVICE,
)


@dataclass(frozen=True, slots=True)
class Peer:
    """Pods we expect to talk to: their labels and their namespace's labels (None: our own)."""

    pod: Mapping[str, str]
    namespace: Mapping[str, str] | None = None
    external: bool = False  # may live outside the cluster (an ipBlock reaches it)


NGINX_INGRESS = (
    Peer({"app": "nginx-ingress"}),
    Peer(
        {"app.kubernetes.io/name": "ingress-nginx"},
        {"kubernetes.io/metadata.name": "ingress-nginx"},
    ),
)
PROMETHEUS = (
    Peer({"app.kubernetes.io/name": "prometheus"}, {"kubernetes.io/metadata.name": "monitoring"}),
    Peer({"app": "prometheus"}),
)
POSTGRES = (Peer({"app": "postgres"}, external=True),)
REDIS = (Peer({"app": "redis"}, external=True),)
ANYWHERE = (Peer({}, {}, external=True),)


def _peer_admits(peer: Mapping[str, Any], want: Peer) -> bool:
    if "ipBlock" in peer:
        return want.external
    pod_sel, ns_sel = peer.get("podSelector"), peer.get("namespaceSelector")
    if pod_sel is not None and not selector_matches(pod_sel, want.pod):
        return False
    if ns_sel is None:
        return want.namespace is None
    if not (ns_sel.get("matchLabels") or ns_sel.get("matchExpressions")):
        return True
    return want.namespace is not None and selector_matches(ns_sel, want.namespace)


def _port_admits(ports: Sequence[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for entry in ports:
        if str(entry.get("protocol", "TCP")).upper() != protocol:
            continue
        number = entry.get("port")
        if number is None:
            return True
        if isinstance(number, int) and number <= port <= int(entry.get("endPort", number)):
            return True
    return False


def _types(policy: K8sObject) -> set[str]:
    types = policy.spec.get("policyTypes")
    if types:
        return set(types)
    return {"Ingress", "Egress"} if policy.spec.get("egress") else {"Ingress"}


def _allows(
    policies: Sequence[K8sObject],
    direction: str,
    port: int,
    protocol: str,
    peers: Sequence[Peer] | None,
) -> bool:
    """True when traffic is unrestricted in `direction` or some rule admits one of `peers`
    (`peers` None: any peer will do, as for DNS, whose servers vary by cluster)."""
    restricting = [p for p in policies if direction in _types(p)]
    if not restricting:
        return True
    key, side = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in restricting:
        for rule in policy.spec.get(key) or []:
            if not _port_admits(rule.get("ports"), port, protocol):
                continue
            sides = rule.get(side)
            if not sides or peers is None:
                return True
            if any(_peer_admits(peer, want) for peer in sides for want in peers):
                return True
    return False


def _check_target(target: RenderedTarget) -> Iterator[Finding]:
    dep = app_deployment(target)
    if dep is None:
        return
    labels = pod_labels(dep)
    policies = [
        p
        for p in target.of_kind("NetworkPolicy")
        if selector_matches(p.spec.get("podSelector"), labels)
    ]
    if not policies:
        yield MISSING.finding(
            target.where(dep),
            message="no NetworkPolicy selects the app's pods",
        )
        return
    file = policies[0].file
    obj = ", ".join(p.ref for p in policies)
    where = Where(target=target.name, file=file, object=obj)
    checks = (
        (
            INGRESS_PROXY,
            "Ingress",
            APP_PORT,
            "TCP",
            NGINX_INGRESS,
            "the NGINX ingress controller on TCP 3000",
        ),
        (
            INGRESS_SCRAPE,
            "Ingress",
            APP_PORT,
            "TCP",
            PROMETHEUS,
            "Prometheus (monitoring namespace) on TCP 3000",
        ),
        (EGRESS_DNS, "Egress", 53, "UDP", None, "DNS on UDP 53"),
        (EGRESS_DNS, "Egress", 53, "TCP", None, "DNS on TCP 53 (large answers)"),
        (EGRESS_POSTGRES, "Egress", 5432, "TCP", POSTGRES, "PostgreSQL on TCP 5432"),
        (EGRESS_REDIS, "Egress", 6379, "TCP", REDIS, "Redis on TCP 6379"),
    )
    for rule, direction, port, protocol, peers, what in checks:
        if not _allows(policies, direction, port, protocol, peers):
            verb = "admits" if direction == "Ingress" else "allows"
            yield rule.finding(where, message=f"no rule {verb} {what}")
    for svc in target.of_kind("Service"):
        kind = svc.spec.get("type", "ClusterIP")
        if kind not in ("LoadBalancer", "NodePort") or not selector_matches(
            {"matchLabels": svc.spec.get("selector") or {"-": "-"}}, labels
        ):
            continue
        if not _allows(policies, "Ingress", APP_PORT, "TCP", ANYWHERE):
            yield EXTERNAL_SERVICE.finding(
                target.where(svc),
                message=f"type {kind} publishes the app, but {obj} admits only in-cluster peers on "
                f"{APP_PORT}: traffic from the load balancer or node ports is dropped",
            )


def check(stack: Stack) -> Iterator[Finding]:
    for target in stack.targets:
        yield from _check_target(target)
