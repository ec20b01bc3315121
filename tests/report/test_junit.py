"""junit.xml: one testsuite, one testcase per check; failures carry evidence; valid layout."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from harness.report.junit import render_junit
from harness.verify.check import Verdict

# The common JUnit XML schema (the one Jenkins, GitLab and most CI readers accept), as rules:
# element -> (allowed attributes, required attributes, allowed children in order, max occurs)
_SCHEMA = {
    "testsuites": (
        {"name", "time", "tests", "failures", "disabled", "errors", "skipped"},
        set(),
        [("testsuite", None)],
    ),
    "testsuite": (
        {
            "name",
            "tests",
            "failures",
            "errors",
            "time",
            "disabled",
            "skipped",
            "timestamp",
            "hostname",
            "id",
            "package",
            "file",
            "log",
            "url",
            "version",
        },
        {"name", "tests"},
        [("properties", 1), ("testcase", None), ("system-out", 1), ("system-err", 1)],
    ),
    "properties": (set(), set(), [("property", None)]),
    "property": ({"name", "value"}, {"name", "value"}, []),
    "testcase": (
        {"name", "assertions", "time", "classname", "status", "class", "file", "line"},
        {"name"},
        [
            ("skipped", 1),
            ("error", None),
            ("failure", None),
            ("system-out", None),
            ("system-err", None),
        ],
    ),
    "skipped": ({"message"}, set(), []),
    "error": ({"message", "type"}, set(), []),
    "failure": ({"message", "type"}, set(), []),
    "system-out": (set(), set(), []),
    "system-err": (set(), set(), []),
}
_INTEGER = {"tests", "failures", "errors", "skipped", "disabled", "id", "assertions"}
_DECIMAL = {"time"}


def validate(element: ET.Element, path: str = "") -> None:
    """Raise AssertionError naming the path of the first violation of the schema above."""
    where = f"{path}/{element.tag}"
    assert element.tag in _SCHEMA, f"{where}: unknown element"
    allowed, required, children = _SCHEMA[element.tag]
    assert set(element.attrib) <= allowed, f"{where}: attributes {set(element.attrib) - allowed}"
    assert required <= set(element.attrib), f"{where}: missing {required - set(element.attrib)}"
    for name, value in element.attrib.items():
        if name in _INTEGER:
            assert re.fullmatch(r"\d+", value), f"{where}@{name}={value!r}"
        if name in _DECIMAL:
            assert re.fullmatch(r"\d+(\.\d+)?", value), f"{where}@{name}={value!r}"
        if name == "timestamp":
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", value), f"{where}@timestamp"
    order = [tag for tag, _ in children]
    position = 0
    counts: dict[str, int] = {}
    for child in element:
        assert child.tag in order, f"{where}: {child.tag} not allowed here"
        index = order.index(child.tag)
        assert index >= position, f"{where}: {child.tag} out of order"
        position = index
        counts[child.tag] = counts.get(child.tag, 0) + 1
        limit = dict(children)[child.tag]
        assert limit is None or counts[child.tag] <= limit, f"{where}: too many {child.tag}"
        validate(child, where)
    if element.tag == "properties":
        assert counts.get("property", 0) >= 1, f"{where}: empty properties"


def parse(result) -> ET.Element:
    root = ET.fromstring(render_junit(result).encode("utf-8"))
    validate(root)
    return root


@pytest.mark.parametrize(
    ("kind", "tests", "failures", "errors", "skipped"),
    [
        ("passed", 6, 0, 0, 1),
        ("failed", 6, 2, 0, 1),
        ("interrupted", 1, 0, 1, 0),  # the run.completed testcase only
        ("empty", 1, 0, 1, 0),
    ],
)
def test_counts(result_factory, kind, tests, failures, errors, skipped):
    root = parse(result_factory(kind))
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    cases = suite.findall("testcase")
    assert len(cases) == tests
    assert len(suite.findall("testcase/failure")) == failures
    assert len(suite.findall("testcase/error")) == errors
    assert len(suite.findall("testcase/skipped")) == skipped
    for element in (root, suite):
        assert element.get("tests") == str(tests)
        assert element.get("failures") == str(failures)
        assert element.get("errors") == str(errors)
        assert element.get("skipped") == str(skipped)


def test_one_testcase_per_check_named_by_id(result_factory):
    result = result_factory("passed")
    cases = parse(result).findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == [c.id for c in result.checks]
    assert [c.get("classname") for c in cases] == [
        "harness.slo",
        "harness.slo",
        "harness.slo",
        "harness.slo",
        "harness.slo",
        "harness.pool",
    ]


def test_failure_carries_observed_threshold_window_and_evidence(result_factory):
    suite = parse(result_factory("failed")).find("testsuite")
    case = suite.find("testcase[@name='slo.latency.p99']")
    failure = case.find("failure")
    assert failure.get("message") == "p99 latency, all requests: observed 690 ms, must be ≤ 300 ms"
    assert failure.get("type") == "CheckFailed"
    assert "observed: 690 ms" in failure.text
    assert "threshold: ≤ 300 ms" in failure.text
    assert "window: sliding 60s 210–300 s" in failure.text
    assert "(limit 300 ms); <worst> window & all." in failure.text  # escaped in the file
    passed = suite.find("testcase[@name='slo.latency.p95']")
    assert passed.find("failure") is None and passed.find("skipped") is None


def test_skipped_check_gives_its_reason(result_factory):
    case = parse(result_factory("passed")).find("testsuite/testcase[@name='pool.max-in-use']")
    assert case.find("skipped").get("message") == (
        "the embedded stack uses SQLite: no connection pool to observe"
    )


def test_partial_run_is_an_error_so_ci_never_reads_it_as_green(result_factory):
    case = parse(result_factory("interrupted")).find("testsuite/testcase")
    assert (case.get("classname"), case.get("name")) == ("harness.run", "run.completed")
    assert case.find("error").get("message") == "run interrupted"
    assert "PARTIAL REPORT" in case.find("error").text


def test_suite_metadata(result_factory):
    suite = parse(result_factory("failed")).find("testsuite")
    assert suite.get("name") == "harness.peak"
    assert suite.get("timestamp") == "2026-09-21T14:13:20"
    assert suite.get("time") == "312.500"
    props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert props["run_id"] == "20260921-141320-failed"
    assert props["status"] == "failed"


def test_characters_xml_cannot_hold_are_replaced(result_factory):
    result = result_factory("failed")
    bad = replace(result.checks[1], evidence="bell \x07 and nul \x00 here")
    root = parse(replace(result, checks=(bad,)))
    text = root.find("testsuite/testcase/failure").text
    assert "bell \ufffd and nul \ufffd here" in text


def test_validator_rejects_a_bad_layout():
    """The schema rules above can fail: a failure before a skipped, an unknown attribute."""
    bad = ET.fromstring(
        "<testsuites><testsuite name='x' tests='1'><testcase name='a'>"
        "<failure/><skipped/></testcase></testsuite></testsuites>"
    )
    with pytest.raises(AssertionError, match="out of order"):
        validate(bad)
    with pytest.raises(AssertionError, match="attributes"):
        validate(ET.fromstring("<testsuites color='red'/>"))


def test_junit_is_deterministic(result_factory):
    assert render_junit(result_factory("failed")) == render_junit(result_factory("failed"))
    assert Verdict.FAIL in {c.verdict for c in result_factory("failed").checks}


def test_tags_are_properties(result_factory):
    result = replace(result_factory("failed"), tags={"env": "staging", "build": "1.2"})
    props = {p.get("name"): p.get("value")
             for p in parse(result).find("testsuite").findall("properties/property")}
    assert props["tag.env"] == "staging" and props["tag.build"] == "1.2"
