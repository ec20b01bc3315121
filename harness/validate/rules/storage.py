"""File uploads: UPLOADS_DIR sits on a persistent volume (the root filesystem is read-only and pods
come and go), and a claim that several pods mount at once is ReadWriteMany."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from harness.validate.compose import service_environment, volume_targets
from harness.validate.model import Finding, Rule, Severity, Stack
from harness.validate.rules.k8s import (
    app_container,
    app_deployment,
    container_settings,
    pod_spec,
    replica_range,
    surge,
)

__all__ = ["RULES", "check"]

SHARED_VOLUME = Rule(
    "storage.shared-volume",
    Severity.ERROR,
    "a PVC mounted by a workload that runs 2+ pods at once (replicas, HPA, rollout surge) is "
    "ReadWriteMany",
    "set accessModes: [ReadWriteMany] with a storage class that offers it (EFS, Filestore, "
    "Azure Files)",
)
UPLOADS = Rule(
    "storage.uploads",
    Severity.ERROR,
    "UPLOADS_DIR is on a persistent volume mount, not the (read-only) root filesystem",
    "mount the uploads claim (compose: a named volume) at UPLOADS_DIR",
)
RULES = (SHARED_VOLUME, UPLOADS)


def _under(path: str, mount: str) -> bool:
    return (
        PurePosixPath(path) == PurePosixPath(mount)
        or PurePosixPath(mount) in PurePosixPath(path).parents
    )


def _check_k8s(stack: Stack) -> Iterator[Finding]:
    for target in stack.targets:
        dep = app_deployment(target)
        if dep is None:
            continue
        _, high = replica_range(target, dep)
        pods = high + surge(dep, high)
        claims = {
            v.get("name"): v["persistentVolumeClaim"].get("claimName")
            for v in pod_spec(dep).get("volumes") or []
            if v.get("persistentVolumeClaim")
        }
        for claim in sorted(set(claims.values())):
            pvc = target.get("PersistentVolumeClaim", str(claim))
            if pvc is None:
                continue
            modes = set(pvc.spec.get("accessModes") or [])
            if pods > 1 and "ReadWriteMany" not in modes:
                yield SHARED_VOLUME.finding(
                    target.where(pvc),
                    message=f"accessModes {sorted(modes)} but {dep.ref} runs up to {pods} pods "
                    "at once "
                    f"(spread over nodes): all but one stay in ContainerCreating (Multi-Attach)",
                )
        container = app_container(dep)
        if container is None:
            continue
        uploads = container_settings(target, container, dep.file).get("UPLOADS_DIR")
        if uploads is None or uploads.value is None:
            continue
        mounts = [
            m
            for m in container.get("volumeMounts") or []
            if m.get("name") in claims
            and not m.get("readOnly")
            and _under(uploads.value, str(m.get("mountPath")))
        ]
        if not mounts:
            yield UPLOADS.finding(
                target.where(dep, f"container {container.get('name')}"),
                message=f"UPLOADS_DIR {uploads.value} is not on a writable "
                "PersistentVolumeClaim mount",
            )


def _check_compose(stack: Stack) -> Iterator[Finding]:
    app = stack.compose.service("app")
    if app is None:
        return
    uploads = service_environment(app).get("UPLOADS_DIR")
    if not uploads:
        return
    if not any(
        kind in ("volume", "bind") and _under(uploads, t) for kind, t in volume_targets(app)
    ):
        yield UPLOADS.finding(
            stack.compose.where("app"),
            message=f"UPLOADS_DIR {uploads} is not on a writable volume",
        )


def check(stack: Stack) -> Iterator[Finding]:
    yield from _check_k8s(stack)
    yield from _check_compose(stack)
