"""Container hardening as the seed states it (non-root UID 1001, read-only root filesystem, no new
privileges, all capabilities dropped but NET_BIND_SERVICE, writable temp dirs), on every
Kubernetes workload container, the compose `app` service and the Dockerfile."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from harness.validate.compose import volume_targets
from harness.validate.model import Finding, Rule, Severity, Stack, Where
from harness.validate.rules.k8s import containers, pod_spec, workloads

__all__ = ["RULES", "check"]

UID = 1001
ALLOWED_CAPS = frozenset({"NET_BIND_SERVICE"})

NON_ROOT = Rule(
    "hardening.non-root",
    Severity.ERROR,
    "containers run as the non-root UID 1001",
    'set runAsNonRoot: true and runAsUser: 1001 (compose: user: "1001:1001")',
)
READ_ONLY_ROOT = Rule(
    "hardening.read-only-root",
    Severity.ERROR,
    "the root filesystem is read-only",
    "set readOnlyRootFilesystem: true (compose: read_only: true)",
)
NO_ESCALATION = Rule(
    "hardening.no-privilege-escalation",
    Severity.ERROR,
    "no privilege escalation, never privileged",
    "set allowPrivilegeEscalation: false and privileged: false "
    "(compose: security_opt: [no-new-privileges:true])",
)
CAPABILITIES = Rule(
    "hardening.capabilities",
    Severity.ERROR,
    "all capabilities dropped, only NET_BIND_SERVICE added back",
    "capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]} (compose: cap_drop: [ALL])",
)
WRITABLE_TMP = Rule(
    "hardening.writable-tmp",
    Severity.WARNING,
    "with a read-only root, /tmp is a writable emptyDir or tmpfs",
    "mount an emptyDir at /tmp (compose: tmpfs: [/tmp])",
)
IMAGE_USER = Rule(
    "hardening.image-user",
    Severity.ERROR,
    "the Dockerfile's final stage switches to the numeric UID 1001",
    "end the Dockerfile with USER 1001:1001 (numeric, so runAsNonRoot can verify it)",
)
RULES = (NON_ROOT, READ_ONLY_ROOT, NO_ESCALATION, CAPABILITIES, WRITABLE_TMP, IMAGE_USER)


def _effective(pod_ctx: Mapping[str, Any], ctx: Mapping[str, Any], key: str) -> Any:
    return ctx[key] if key in ctx else pod_ctx.get(key)


def _check_k8s(stack: Stack) -> Iterator[Finding]:
    for target in stack.targets:
        for obj in workloads(target):
            pod = pod_spec(obj)
            pod_ctx = pod.get("securityContext") or {}
            mounts_by_container = {}
            for c in containers(obj):
                mounts_by_container[c.get("name")] = {
                    m.get("mountPath") for m in c.get("volumeMounts") or []
                }
            for c in containers(obj):
                ctx = c.get("securityContext") or {}
                where = target.where(obj, f"container {c.get('name')}")
                non_root = _effective(pod_ctx, ctx, "runAsNonRoot")
                uid = _effective(pod_ctx, ctx, "runAsUser")
                if non_root is not True or uid != UID:
                    yield NON_ROOT.finding(
                        where,
                        message=f"runAsNonRoot is {non_root!r} and runAsUser is {uid!r}; want "
                        f"true and {UID}",
                    )
                if ctx.get("readOnlyRootFilesystem") is not True:
                    yield READ_ONLY_ROOT.finding(
                        where,
                        message=f"readOnlyRootFilesystem is {ctx.get('readOnlyRootFilesystem')!r}",
                    )
                if (
                    ctx.get("allowPrivilegeEscalation") is not False
                    or ctx.get("privileged") is True
                ):
                    yield NO_ESCALATION.finding(
                        where,
                        message=f"allowPrivilegeEscalation is "
                        f"{ctx.get('allowPrivilegeEscalation')!r}"
                        f", privileged is {ctx.get('privileged')!r}",
                    )
                caps = ctx.get("capabilities") or {}
                drop = {str(x).upper() for x in caps.get("drop") or []}
                add = {str(x).upper().removeprefix("CAP_") for x in caps.get("add") or []}
                if "ALL" not in drop or not add <= ALLOWED_CAPS:
                    yield CAPABILITIES.finding(
                        where,
                        message=f"drop {sorted(drop)}, add {sorted(add)}; want drop [ALL], add "
                        "only NET_BIND_SERVICE",
                    )
                if (
                    ctx.get("readOnlyRootFilesystem") is True
                    and "/tmp" not in mounts_by_container[c.get("name")]
                ):
                    yield WRITABLE_TMP.finding(
                        where, message="read-only root but nothing writable mounted at /tmp"
                    )


def _check_compose(stack: Stack) -> Iterator[Finding]:
    app = stack.compose.service("app")
    if app is None:
        return
    where = stack.compose.where("app")
    user = str(app.get("user", ""))
    uid = user.split(":", 1)[0]
    if uid != str(UID):
        yield NON_ROOT.finding(
            where, message=f"user is {user or 'unset (the image decides)'}; want 1001:1001"
        )
    if app.get("read_only") is not True:
        yield READ_ONLY_ROOT.finding(where, message=f"read_only is {app.get('read_only')!r}")
    opts = [str(o).replace("=", ":") for o in app.get("security_opt") or []]
    if not any(o in ("no-new-privileges:true", "no-new-privileges") for o in opts) or app.get(
        "privileged"
    ):
        yield NO_ESCALATION.finding(
            where, message=f"security_opt is {opts}, privileged is {app.get('privileged')!r}"
        )
    drop = {str(x).upper() for x in app.get("cap_drop") or []}
    add = {str(x).upper().removeprefix("CAP_") for x in app.get("cap_add") or []}
    if "ALL" not in drop or not add <= ALLOWED_CAPS:
        yield CAPABILITIES.finding(where, message=f"cap_drop {sorted(drop)}, cap_add {sorted(add)}")
    if app.get("read_only") is True:
        tmpfs = app.get("tmpfs") or []
        tmpfs = [tmpfs] if isinstance(tmpfs, str) else tmpfs
        targets = {str(t).split(":", 1)[0] for t in tmpfs}
        targets |= {target for _, target in volume_targets(app)}
        if "/tmp" not in targets:
            yield WRITABLE_TMP.finding(where, message="read_only but no tmpfs or volume at /tmp")


_FROM = re.compile(r"^\s*FROM\s", re.IGNORECASE)
_USER = re.compile(r"^\s*USER\s+(\S+)", re.IGNORECASE)


def _check_dockerfile(stack: Stack) -> Iterator[Finding]:
    where = Where(target="image", file=stack.dockerfile, object="final stage")
    if not stack.dockerfile_text:
        yield IMAGE_USER.finding(where, message="the Dockerfile is missing")
        return
    user: str | None = None
    for line in stack.dockerfile_text.splitlines():
        if _FROM.match(line):
            user = None
        match = _USER.match(line)
        if match:
            user = match.group(1)
    uid = (user or "").split(":", 1)[0]
    if uid != str(UID):
        yield IMAGE_USER.finding(
            where, message=f"the final stage runs as {user or 'root (no USER)'}"
        )


def check(stack: Stack) -> Iterator[Finding]:
    yield from _check_k8s(stack)
    yield from _check_compose(stack)
    yield from _check_dockerfile(stack)
