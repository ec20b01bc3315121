"""The bundled stack passes `harness validate`, through the Python API and the CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from harness.commands.validate import register
from harness.errors import ConfigError, DependencyError
from harness.status import ExitStatus
from harness.validate import Severity, ValidationReport, all_rules, validate_stack


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """harness"""

    register(app)
    return app


def test_bundled_stack_has_no_error_and_no_unexplained_warning(
    bundled_report: ValidationReport,
) -> None:
    shown = [
        f"{f.severity} {f.rule_id} {f.file} {f.object}: {f.message}"
        for f in bundled_report.findings
    ]
    assert not bundled_report.has_errors, shown
    # The bundled stack carries no warning either; one added later must be explained in a
    # comment in the stack and listed here.
    assert [f for f in bundled_report.findings if f.severity is Severity.WARNING] == [], shown


def test_every_target_is_checked(bundled_report: ValidationReport) -> None:
    assert bundled_report.targets == (
        "base",
        "overlays/development",
        "overlays/production",
        "overlays/staging",
        "compose",
    )


def test_rule_ids_are_unique_and_namespaced() -> None:
    ids = [r.id for r in all_rules()]
    assert len(ids) == len(set(ids))
    assert all("." in i and i == i.lower() for i in ids)


def test_cli_text_exit_0(stack_copy: Path) -> None:
    result = CliRunner().invoke(_app(), ["validate", "--stack-dir", str(stack_copy)])
    assert result.exit_code == int(ExitStatus.OK), result.output
    assert "OK" in result.output


def test_cli_json_lists_findings_with_rule_ids_and_exits_1(stack_copy: Path) -> None:
    deployment = stack_copy / "k8s/base/deployment.yaml"
    deployment.write_text(
        deployment.read_text().replace(
            "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"
        )
    )
    result = CliRunner().invoke(
        _app(), ["validate", "--stack-dir", str(stack_copy), "--format", "json"]
    )
    assert result.exit_code == int(ExitStatus.CHECK_FAILED), result.output
    doc = json.loads(result.output)
    assert doc["ok"] is False
    finding = next(f for f in doc["findings"] if f["rule_id"] == "hardening.read-only-root")
    assert finding["severity"] == "error"
    assert finding["file"] == "k8s/base/deployment.yaml"
    assert finding["object"] == "Deployment/servicedesk-app container app"
    assert set(finding["targets"]) == {
        "base",
        "overlays/development",
        "overlays/production",
        "overlays/staging",
    }
    assert finding["fix"]


def test_cli_list_rules() -> None:
    result = CliRunner().invoke(_app(), ["validate", "--list-rules"])
    assert result.exit_code == 0
    for rule in all_rules():
        assert rule.id in result.output


def test_missing_stack_dir_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        validate_stack(tmp_path / "nope")
    assert info.value.exit_status == ExitStatus.BAD_CONFIG


def test_missing_kubectl_is_a_dependency_error(stack_copy: Path) -> None:
    with pytest.raises(DependencyError) as info:
        validate_stack(stack_copy, kubectl="/nonexistent/kubectl")
    assert info.value.exit_status == ExitStatus.STACK_FAILED


def test_broken_overlay_is_a_config_error_naming_it(stack_copy: Path) -> None:
    (stack_copy / "k8s/overlays/staging/kustomization.yaml").write_text(
        "resources: [missing.yaml]\n"
    )
    with pytest.raises(ConfigError, match="overlays/staging"):
        validate_stack(stack_copy)


def test_environments_must_name_every_target(stack_copy: Path) -> None:
    shutil_copy = stack_copy / "k8s/overlays/qa"
    shutil_copy.mkdir()
    (shutil_copy / "kustomization.yaml").write_text("resources: [../../base]\n")
    with pytest.raises(ConfigError, match=r"targets -> overlays/qa"):
        validate_stack(stack_copy)


def test_validate_is_quick(stack_copy: Path) -> None:
    started = time.perf_counter()
    validate_stack(stack_copy)
    # Four kustomize renderings plus schemas and rules; about 1 s on the 2-core CI machine.
    assert time.perf_counter() - started < 20
