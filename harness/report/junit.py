"""junit.xml: one testsuite per run, one testcase per check, so any CI can gate on a run.

The layout follows the common JUnit XML schema that Jenkins, GitLab and GitHub reporters read:
`testsuites > testsuite > (properties?, testcase*, system-out?)`, a testcase holding at most one
`skipped`, `failure` or `error`. A failed check's `failure` carries the observed value, the
threshold, the window and the evidence. A run that did not finish (interrupted, or stopped on an
error) gets one extra testcase, `run.completed`, with an `error`, so a partial run never reads as
green in CI even when no check was evaluated.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from harness.report.formatting import (
    format_observed,
    format_threshold,
    format_window,
    is_partial,
    partial_notice,
)
from harness.report.results import RunResult
from harness.verify.check import CheckResult, Verdict

__all__ = ["render_junit"]


# characters XML 1.0 cannot hold at all, even escaped
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(element: ET.Element) -> None:
    """Replace characters XML cannot carry (from error messages, say) in a whole tree."""
    for node in element.iter():
        if node.text:
            node.text = _NOT_XML.sub("\ufffd", node.text)
        for key, value in node.attrib.items():
            node.attrib[key] = _NOT_XML.sub("\ufffd", value)


def _classname(check: CheckResult) -> str:
    return f"harness.{check.id.split('.', 1)[0]}"


def _failure_text(check: CheckResult) -> str:
    lines = [
        f"check: {check.id} ({check.title})",
        f"observed: {format_observed(check)}",
        f"threshold: {format_threshold(check)}",
        f"window: {format_window(check.window)}",
    ]
    if check.evidence:
        lines.append(f"evidence: {check.evidence}")
    return "\n".join(lines) + "\n"


def _testcase(check: CheckResult) -> ET.Element:
    case = ET.Element("testcase", {"classname": _classname(check), "name": check.id, "time": "0"})
    if check.verdict is Verdict.FAIL:
        message = f"{check.title}: observed {format_observed(check)}, must be " + format_threshold(
            check
        )
        failure = ET.SubElement(case, "failure", {"message": message, "type": "CheckFailed"})
        failure.text = _failure_text(check)
    elif check.verdict is Verdict.SKIPPED:
        ET.SubElement(case, "skipped", {"message": check.reason or "skipped"})
    elif check.verdict is Verdict.UNTRUSTED:
        # Neither a pass nor a failure of the system: the measurement itself went wrong.
        message = f"{check.title}: untrusted, the load generator saturated"
        error = ET.SubElement(case, "error", {"message": message, "type": "CheckUntrusted"})
        error.text = _failure_text(check)
    elif check.evidence:
        out = ET.SubElement(case, "system-out")
        out.text = check.evidence
    return case


def _properties(result: RunResult) -> ET.Element:
    props = ET.Element("properties")
    values = {
        "run_id": result.run_id,
        "scenario": result.scenario,
        "stack": result.stack,
        "status": str(result.status),
        "exit_status": str(result.exit_status),
        "schema_version": str(result.schema_version),
    }
    # Tags as `tag.KEY`, so CI result viewers can filter runs by them.
    values.update({f"tag.{key}": value for key, value in sorted(result.tags.items())})
    for name, value in values.items():
        ET.SubElement(props, "property", {"name": name, "value": value})
    return props


def render_junit(result: RunResult) -> str:
    """The junit.xml text (UTF-8, with an XML declaration)."""
    cases = [_testcase(check) for check in result.checks]
    errors = 0
    if is_partial(result):
        case = ET.Element(
            "testcase", {"classname": "harness.run", "name": "run.completed", "time": "0"}
        )
        error = ET.SubElement(
            case, "error", {"message": f"run {result.status}", "type": "RunIncomplete"}
        )
        error.text = (partial_notice(result) or "") + "\n"
        cases.append(case)
        errors = 1
    errors += sum(1 for c in result.checks if c.verdict is Verdict.UNTRUSTED)
    failures = sum(1 for c in result.checks if c.verdict is Verdict.FAIL)
    skipped = sum(1 for c in result.checks if c.verdict is Verdict.SKIPPED)
    duration = f"{max(0.0, result.ended_at - result.started_at):.3f}"
    counts = {
        "tests": str(len(cases)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(skipped),
        "time": duration,
    }
    root = ET.Element("testsuites", {"name": "harness", **counts})
    timestamp = datetime.fromtimestamp(result.started_at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": f"harness.{result.scenario}",
            "id": "0",
            "package": "harness",
            "hostname": result.stack,
            "timestamp": timestamp,
            **counts,
        },
    )
    suite.append(_properties(result))
    suite.extend(cases)
    out = ET.SubElement(suite, "system-out")
    out.text = f"run {result.run_id}: {result.status}, exit status {result.exit_status}\n"
    _clean(root)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
