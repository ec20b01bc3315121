"""Bad input, tried as a new user would (issue 14): each case exits 2 naming the flag, file or
key (never "internal error"), before anything starts, and nothing lands outside --report-dir."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.cli import main
from harness.status import ExitStatus
from tests.compare.synthetic import write_run
from tests.validate.conftest import copy_stack

GOOD_SCENARIO = """\
name: tiny
description: bad-input tests
stages:
  - {duration: 5s, users: 1, spawn_rate: 1, steady: true}
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_bad_usage(code: int, err: str, *words: str) -> None:
    assert code == ExitStatus.BAD_CONFIG, err
    assert "internal error" not in err and "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], (word, lines[0])


# --- 1. --run-id stays one new folder inside --report-dir ----------------------------------

@pytest.mark.parametrize("run_id", ["../x", "/abs/path", "", ".", "..", "a/b", ".hidden",
                                    "latest", "history", "x" * 200, "tab\tid"])
def test_run_id_that_is_not_one_folder_name_is_refused(capsys, tmp_path, run_id):
    reports = tmp_path / "reports"
    code, _, err = run(capsys, "run", "--report-dir", str(reports), "--run-id", run_id,
                       "--duration", "5s")
    assert_bad_usage(code, err, "--run-id")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]  # nothing escaped
    assert list(reports.iterdir()) == []


def test_run_id_of_an_earlier_run_is_refused(capsys, tmp_path):
    earlier = tmp_path / "nightly-1"
    earlier.mkdir()
    (earlier / "results.json").write_text("{}")
    code, _, err = run(capsys, "run", "--report-dir", str(tmp_path), "--run-id", "nightly-1")
    assert_bad_usage(code, err, "--run-id", "nightly-1", "already exists")
    assert (earlier / "results.json").read_text() == "{}"


def test_drill_checks_its_run_id_too(capsys, tmp_path):
    code, _, err = run(capsys, "drill", "backup-restore", "--report-dir", str(tmp_path),
                       "--run-id", "../escape")
    assert_bad_usage(code, err, "--run-id")
    assert not (tmp_path.parent / "escape").exists()


# --- 4. --target's port ------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["http://127.0.0.1:99999", "http://127.0.0.1:0",
                                    "http://127.0.0.1:x", "http://:80", "ftp://127.0.0.1"])
def test_target_with_an_impossible_port_or_scheme_is_refused(capsys, tmp_path, target):
    code, _, err = run(capsys, "run", "--target", target, "--report-dir", str(tmp_path))
    assert_bad_usage(code, err, "--target")
    assert list(tmp_path.iterdir()) == []


# --- 5. corrupt or wrong-type input files ------------------------------------------------------

@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("runs") / "good", seed=7, steady=60.0,
                     scenario="stress")


def _broken_copy(good_run: Path, dest: Path, text: str) -> Path:
    folder = dest / "broken"
    shutil.copytree(good_run, folder)
    (folder / "results.json").write_text(text)
    return folder


@pytest.mark.parametrize("content", [
    "truncated", "[]", "null", '{"schema_version": 1}', "\udcff", "wrong-type",
])
@pytest.mark.parametrize("command", [["compare"], ["plan"], ["baseline", "set"],
                                     ["baseline", "add"]])
def test_corrupt_results_json_names_the_file(capsys, tmp_path, good_run, command, content):
    text = good_run.joinpath("results.json").read_text()
    if content == "truncated":
        content = text[: len(text) // 2]
    elif content == "wrong-type":
        data = json.loads(text)
        data["totals"] = "many"
        content = json.dumps(data)
    folder = _broken_copy(good_run, tmp_path, content.encode("utf-8", "surrogateescape")
                          .decode("utf-8", "replace"))
    code, _, err = run(capsys, *command, str(folder), "--report-dir", str(tmp_path / "r"))
    assert_bad_usage(code, err, "results.json")


def test_validate_with_a_wrong_type_reports_a_finding_not_a_crash(capsys, tmp_path):
    stack = copy_stack(tmp_path)
    deployment = stack / "k8s" / "base" / "deployment.yaml"
    text = deployment.read_text()
    assert "\n  replicas: 3\n" in text
    deployment.write_text(text.replace("\n  replicas: 3\n", '\n  replicas: "three"\n'))
    code, out, err = run(capsys, "validate", "--stack-dir", str(stack), "--format", "json")
    assert code == ExitStatus.CHECK_FAILED, err
    assert "internal error" not in err
    findings = json.loads(out)["findings"]
    assert any(f["rule_id"] == "validate.unchecked" and "three" in f["message"]
               for f in findings)
    assert any(f["rule_id"] == "schema.kubernetes" and "replicas" in f["message"]
               for f in findings)


@pytest.mark.parametrize("content", ["{", "[]", '{"replicas": [{"pid": "x"}]}', "\x00\xff"])
def test_down_with_a_corrupt_state_file_removes_it_and_names_it(capsys, tmp_path, monkeypatch,
                                                                content):
    monkeypatch.setenv("HARNESS_STATE_DIR", str(tmp_path))
    state = tmp_path / "embedded.json"
    state.write_text(content, encoding="utf-8", errors="surrogateescape")
    code, _, err = run(capsys, "down")
    assert_bad_usage(code, err, str(state))
    assert not state.exists()  # so `harness up` is not refused for good
    code, out, _ = run(capsys, "down")
    assert code == ExitStatus.OK and "nothing to stop" in out


# --- 6. --report-dir that is a file or cannot be written ---------------------------------------

def test_report_dir_that_is_a_file_is_bad_usage(capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    code, _, err = run(capsys, "run", "--report-dir", str(afile), "--duration", "5s")
    assert_bad_usage(code, err, "--report-dir", "not a directory")
    code, _, err = run(capsys, "run", "--report-dir", str(afile / "sub"), "--duration", "5s")
    assert_bad_usage(code, err, "--report-dir")


def test_report_dir_that_is_not_writable_is_bad_usage(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        if (locked / "probe").exists() or _can_write(locked):
            pytest.skip("running as root: permissions do not bind")
        code, _, err = run(capsys, "run", "--report-dir", str(locked), "--duration", "5s")
        assert_bad_usage(code, err, "--report-dir")
    finally:
        locked.chmod(0o700)


def _can_write(folder: Path) -> bool:
    try:
        (folder / "probe").write_text("")
    except OSError:
        return False
    (folder / "probe").unlink()
    return True


# --- 7. compare of a run without requests ------------------------------------------------------

def test_compare_of_a_run_with_zero_requests_is_not_a_pass(capsys, tmp_path, good_run):
    data = json.loads(good_run.joinpath("results.json").read_text())
    data["status"], data["exit_status"] = "error", 3
    data["totals"]["requests"] = data["totals"]["failures"] = 0
    folder = _broken_copy(good_run, tmp_path, json.dumps(data))
    code, out, err = run(capsys, "compare", str(folder), str(good_run),
                         "--report-dir", str(tmp_path))
    assert_bad_usage(code, err, "no requests", "nothing to compare")
    assert "PASS" not in out


# --- 8. a locustfile with a syntax error -------------------------------------------------------

@pytest.mark.parametrize(("source", "line", "kind"), [
    ("from locust import HttpUser\n\nclass U(HttpUser):\n    def f(self)\n        pass\n",
     4, "SyntaxError"),
    ("x = 1\n  y = 2\n", 2, "IndentationError"),
])
def test_locustfile_syntax_error_stops_the_run_before_the_stack(capsys, tmp_path, source, line,
                                                                kind):
    (tmp_path / "broken_locustfile.py").write_text(source)
    scenario = tmp_path / "broken.yaml"
    scenario.write_text(GOOD_SCENARIO + "locustfile: broken_locustfile.py\n")
    code, _, err = run(capsys, "run", "--scenario", str(scenario), "--report-dir",
                       str(tmp_path / "reports"))
    assert_bad_usage(code, err, f"broken_locustfile.py:{line}", kind)
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


# --- 9. validate --format json always prints a document ----------------------------------------

@pytest.mark.parametrize("case", ["missing", "empty", "yaml-error"])
def test_validate_json_prints_a_document_for_every_error(capsys, tmp_path, case):
    folder = tmp_path / "stack"
    if case == "empty":
        folder.mkdir()
    elif case == "yaml-error":
        folder = copy_stack(tmp_path)
        (folder / "compose" / "docker-compose.yml").write_text("services: [\n")
    code, out, err = run(capsys, "validate", "--stack-dir", str(folder), "--format", "json")
    assert code == ExitStatus.BAD_CONFIG, err
    document = json.loads(out)
    assert document["ok"] is False
    assert document["error"]["exit_status"] == 2
    assert document["error"]["message"] == err.strip().removeprefix("harness: error: ")


# --- 10. the smaller ones ----------------------------------------------------------------------

def test_target_with_a_stack_that_starts_its_own_is_a_contradiction(capsys, tmp_path):
    for stack in ("embedded", "local", "compose"):
        code, _, err = run(capsys, "run", "--stack", stack, "--target", "http://127.0.0.1:8000",
                           "--report-dir", str(tmp_path))
        assert_bad_usage(code, err, "--target", f"--stack {stack}")


def test_duplicate_yaml_keys_are_refused_with_the_line(capsys, tmp_path):
    scenario = tmp_path / "dup.yaml"
    scenario.write_text(GOOD_SCENARIO + "description: again\n")
    code, _, err = run(capsys, "run", "--scenario", str(scenario), "--report-dir", str(tmp_path))
    assert_bad_usage(code, err, str(scenario), "line 5", "duplicate key 'description'")


def test_duplicate_keys_in_the_slo_spec_are_refused(capsys, tmp_path):
    slo = tmp_path / "slo.yaml"
    slo.write_text("latency:\n  p95_ms: 250\n  p95_ms: 9999\n")
    code, _, err = run(capsys, "run", "--slo", str(slo), "--report-dir", str(tmp_path))
    assert_bad_usage(code, err, str(slo), "duplicate key 'p95_ms'")


def test_scenario_that_is_a_folder_says_so(capsys, tmp_path):
    code, _, err = run(capsys, "run", "--scenario", str(tmp_path))
    assert_bad_usage(code, err, str(tmp_path), "is a directory")


@pytest.mark.parametrize("duration", ["99999999h", "25h", "4s", "1e400"])
def test_duration_out_of_range_is_refused(capsys, tmp_path, duration):
    code, _, err = run(capsys, "run", "--duration", duration, "--report-dir", str(tmp_path))
    assert_bad_usage(code, err, "--duration")


def test_run_that_fails_before_load_writes_no_chart_page(capsys, tmp_path):
    """A target that refuses connections: the stack never came up, so no load ran; the report
    (results.json, summary.md, junit.xml) is written, the chart page is not."""
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = run(capsys, "run", "--target", f"http://127.0.0.1:{port}", "--duration", "5s",
                       "--no-progress", "--report-dir", str(tmp_path), "--run-id", "refused")
    assert code == ExitStatus.STACK_FAILED, err
    assert "not reachable" in err
    folder = tmp_path / "refused"
    assert {p.name for p in folder.iterdir()} >= {"results.json", "summary.md", "junit.xml"}
    assert not (folder / "report.html").exists()


# --- found by the property test (tests/robustness/test_commands_property.py) -------------------

@pytest.mark.parametrize(("index", "where"), [
    ({"version": 1, "baselines": None, "runs": []}, "baselines"),
    ({"version": 1, "baselines": {}, "runs": [{"run_id": "a", "scenario": "s", "stack": "e",
      "started_at": 1, "status": "passed", "metrics": {"p99": {"x": 1}}}]}, "runs -> 0"),
    ({"version": 1, "baselines": {}, "runs": [{"run_id": "a"}]}, "runs -> 0"),
])
@pytest.mark.parametrize("command", [["baseline", "show"], ["baseline", "trends"]])
def test_a_malformed_history_index_names_the_entry(capsys, tmp_path, index, where, command):
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "index.json").write_text(json.dumps(index))
    code, _, err = run(capsys, *command, "--report-dir", str(tmp_path))
    assert_bad_usage(code, err, "index.json", where)


def test_plan_passes_over_a_malformed_results_json_when_picking_the_newest_run(capsys, tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "results.json").write_text('{"stages": null}')
    code, _, err = run(capsys, "plan", "--report-dir", str(tmp_path))
    assert_bad_usage(code, err, "no stress run")


def test_a_run_name_too_long_for_the_file_system_is_just_not_found(capsys, tmp_path):
    code, _, err = run(capsys, "compare", "a" * 300, "--report-dir", str(tmp_path))
    assert_bad_usage(code, err, "no results.json found")
