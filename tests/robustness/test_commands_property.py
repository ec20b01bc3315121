"""Every command, driven with generated option values and generated file contents (issue 14):
"internal error" is a bug class.

For any input, each command exits with a documented status (0, 1, 2, 3), stderr never says
"internal error" (nor shows a traceback), and nothing is written outside the directories the
command was given. Files generated: scenario, SLO spec, results.json, intervals.jsonl.gz, the
history index, the `harness up` state file; `validate` gets a generated stack folder in a test
of its own (rendering with kubectl takes seconds). Commands run in-process through `main`;
where a command would start a stack, a patch stops it at that point (exit 3, "reached").

Derandomized with a fixed number of examples (HARNESS_FUZZ_EXAMPLES, default below) so CI sees
the same inputs every run; HARNESS_FUZZ_RANDOM=1 and a larger count for a longer local hunt.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import paths
from harness.cli import main
from harness.errors import HarnessError
from tests.compare.synthetic import write_run
from tests.robustness.test_config_fuzz import VALID_SCENARIO, VALID_SLO, _paths, _replace, values

DOCUMENTED = {0, 1, 2, 3}
EXAMPLES = int(os.environ.get("HARNESS_FUZZ_EXAMPLES", "100"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None,
                    derandomize=os.environ.get("HARNESS_FUZZ_RANDOM", "") != "1",
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TRIED: Counter[str] = Counter()
REPO = Path(__file__).resolve().parents[2]


class Reached(HarnessError):
    """Raised where a command would start a stack: its input was accepted."""


# --------------------------------------------------------------------------- valid inputs

@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """One real run folder's files, and a history index holding it, to mutate."""
    root = tmp_path_factory.mktemp("valid")
    folder = write_run(root / "reports" / "run-a", seed=11, steady=60.0)
    code = main(["baseline", "add", str(folder), "--report-dir", str(root / "reports")])
    assert code == 0
    state = {"backend": "embedded", "service_url": "http://127.0.0.1:1",
             "replicas": [{"name": "app-1", "url": "http://127.0.0.1:1", "pid": 2**22 + 7}],
             "work_dir": str(root / "harness-embedded-x"), "tokens_file": None,
             "log_dir": str(root / "logs")}
    return {
        "results.json": (folder / "results.json").read_bytes(),
        "intervals.jsonl.gz": (folder / "intervals.jsonl.gz").read_bytes(),
        "index.json": (root / "reports" / "history" / "index.json").read_bytes(),
        "state.json": json.dumps(state).encode(),
    }


# --------------------------------------------------------------------------- generated content

@st.composite
def json_mutation(draw: st.DrawFn, valid: object) -> bytes:
    """A valid JSON document with fields replaced, deleted or added; or truncated; or noise."""
    kind = draw(st.sampled_from(["mutate", "mutate", "mutate", "truncate", "noise", "valid"]))
    text = json.dumps(valid)
    if kind == "valid":
        return text.encode()
    if kind == "truncate":
        return text.encode()[: draw(st.integers(0, len(text)))]
    if kind == "noise":
        return draw(st.binary(max_size=64) | st.text(max_size=64).map(
            lambda t: t.encode("utf-8", "surrogatepass")))
    data = valid
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(_paths(data)[:400]))
        data = _replace(data, where, draw(values), delete=bool(where) and draw(st.booleans()))
    return json.dumps(data, allow_nan=True).encode()


@st.composite
def samples_mutation(draw: st.DrawFn, valid_gz: bytes) -> bytes:
    """intervals.jsonl.gz: a line mutated, lines dropped, the gzip cut short, or not gzip."""
    lines = gzip.decompress(valid_gz).decode().splitlines()
    kind = draw(st.sampled_from(["line", "line", "drop", "cut", "plain", "valid"]))
    if kind == "valid":
        return valid_gz
    if kind == "cut":
        return valid_gz[: draw(st.integers(0, len(valid_gz) - 1))]
    if kind == "plain":
        return draw(st.binary(max_size=64))
    if kind == "drop":
        keep = draw(st.lists(st.integers(0, len(lines) - 1), max_size=8))
        lines = [lines[i] for i in sorted(set(keep))]
    else:
        index = draw(st.integers(0, len(lines) - 1))
        lines[index] = draw(json_mutation(json.loads(lines[index]))).decode("utf-8", "replace")
    return gzip.compress("\n".join(lines).encode("utf-8", "surrogatepass"))


@st.composite
def yaml_mutation(draw: st.DrawFn, valid: dict) -> bytes:
    kind = draw(st.sampled_from(["mutate", "mutate", "text", "valid"]))
    if kind == "text":
        return draw(st.text(max_size=120)).encode("utf-8", "surrogatepass")
    data: object = valid
    if kind == "mutate":
        for _ in range(draw(st.integers(1, 3))):
            where = draw(st.sampled_from(_paths(data)))
            data = _replace(data, where, draw(values), delete=bool(where) and draw(st.booleans()))
    try:
        return yaml.safe_dump(data, allow_unicode=True).encode("utf-8", "surrogatepass")
    except yaml.YAMLError:
        return b"{"


option_text = st.one_of(
    st.sampled_from(["", ".", "..", "../x", "/abs", "latest", "history", "history:3", "auto",
                     "baseline", "run-a", "0", "-1", "1e400", "nan", "5s", "60s", "99999999h",
                     "p95=5", "p95=-1", "x=", "http://127.0.0.1:99999", "http://127.0.0.1:1",
                     "ftp://x", "a" * 300, "\x00", "ünï"]),
    st.text(max_size=12),
)


def _maybe(flag: str, strategy: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([]), strategy.map(lambda v: [flag, v]))


# --------------------------------------------------------------------------- the commands

@st.composite
def invocation(draw: st.DrawFn, valid: dict[str, bytes]) -> tuple[str, list[str], dict]:
    """(command name, argv with {R}/{T} placeholders, files to write relative to T)."""
    files: dict[str, bytes] = {}
    run_ref = draw(st.sampled_from(["{R}/run-a", "run-a", "{R}/run-a/results.json", "latest",
                                    "{T}/nowhere"]) | option_text)
    if draw(st.booleans()):
        files["reports/run-a/results.json"] = draw(json_mutation(json.loads(
            valid["results.json"])))
        files["reports/run-a/intervals.jsonl.gz"] = draw(samples_mutation(
            valid["intervals.jsonl.gz"]))
    if draw(st.booleans()):
        files["reports/history/index.json"] = draw(json_mutation(json.loads(
            valid["index.json"])))
    out = draw(_maybe("--out", st.sampled_from(["{T}/out", "{R}/run-a/results.json", "{T}/f"])))
    if "{T}/f" in out:
        files["f"] = b"a file, not a folder"
    command = draw(st.sampled_from(["run", "compare", "plan", "baseline", "down", "up",
                                    "provision", "scenarios"]))
    args: list[str]
    if command == "run":
        files["scenario.yaml"] = draw(yaml_mutation(VALID_SCENARIO))
        files["slo.yaml"] = draw(yaml_mutation(VALID_SLO))
        args = ["run", "--no-progress", "--report-dir", "{R}"]
        args += draw(st.sampled_from([["--scenario", "{T}/scenario.yaml"], ["--scenario", "smoke"],
                                      ["--scenario", "{T}"], []]))
        args += draw(_maybe("--slo", st.sampled_from(["{T}/slo.yaml", "{T}/none.yaml", "{T}"])))
        args += draw(_maybe("--duration", option_text))
        args += draw(_maybe("--run-id", option_text))
        args += draw(_maybe("--target", option_text))
        args += draw(_maybe("--stack", st.sampled_from(["embedded", "external", "nowhere"])))
        args += draw(_maybe("--workers", st.sampled_from(["0", "2", "-1", "x", "65"])))
        args += draw(_maybe("--compare", option_text))
    elif command == "compare":
        args = ["compare", run_ref, *draw(st.lists(option_text, max_size=1)),
                "--report-dir", "{R}", *out]
        args += draw(_maybe("--alpha", st.sampled_from(["0.01", "0", "2", "nan", "x"])))
        args += draw(_maybe("--min-effect", option_text))
        args += draw(_maybe("--last", st.sampled_from(["1", "0", "1000"])))
        args += draw(st.sampled_from([[], ["--record"]]))
    elif command == "plan":
        args = ["plan", *draw(st.sampled_from([[], [run_ref]])), "--report-dir", "{R}", *out]
        args += draw(_maybe("--projected-rps", st.sampled_from(["400", "0", "-3", "1e400"])))
        args += draw(_maybe("--growth", st.sampled_from(["1.5", "0", "nan"])))
        args += draw(_maybe("--headroom", st.sampled_from(["0.25", "-1", "11"])))
    elif command == "baseline":
        sub = draw(st.sampled_from(["set", "add", "show", "trends"]))
        args = ["baseline", sub, "--report-dir", "{R}"]
        if sub in ("set", "add"):
            args += [run_ref, *draw(st.sampled_from([[], ["--force"]]))]
        if sub == "trends":
            args += out
        args += draw(_maybe("--scenario", option_text)) if sub in ("show", "trends") else []
    elif command in ("down", "up"):
        if draw(st.booleans()):
            files["state/embedded.json"] = draw(json_mutation(json.loads(valid["state.json"])))
        args = [command]
        if command == "up":
            args += draw(_maybe("--replicas", st.sampled_from(["1", "0", "x", "65"])))
            args += draw(_maybe("--tickets", st.sampled_from(["0", "-1", "10"])))
    elif command == "provision":
        files["slo.yaml"] = draw(yaml_mutation(VALID_SLO))
        which = draw(st.sampled_from(["rules", "dashboards", "monitors"]))
        args = [which, "--slo", draw(st.sampled_from(["{T}/slo.yaml", "{T}/none.yaml", "{T}"]))]
        target = draw(st.sampled_from(["{T}/out/generated", "{T}/f", "{T}/f/below"]))
        if target.startswith("{T}/f"):
            files["f"] = b"a file, not a folder"
        if which == "monitors":
            args += ["build", "--out", target] if draw(st.booleans()) else ["build"]
        else:
            args += draw(st.sampled_from([["--out", target], ["--check"]]))
    else:
        args = ["scenarios"]
    return command, args, files


def _fill(args: list[str], tmp: Path) -> list[str]:
    return [a.replace("{R}", str(tmp / "reports")).replace("{T}", str(tmp)) for a in args]


def _tree(root: Path) -> dict[str, float]:
    if not root.exists():
        return {}
    return {str(p): p.stat().st_mtime for p in root.rglob("*") if not p.is_symlink()}


@contextlib.contextmanager
def _sandbox(tmp: Path) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """The command's world: its state dir in `tmp`, no stack ever started, streams captured."""
    out, err = io.StringIO(), io.StringIO()
    env = {"HARNESS_STATE_DIR": str(tmp / "state"), "HARNESS_REPORT_DIR": str(tmp / "reports")}
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            mock.patch.dict(os.environ, env), \
            mock.patch("harness.pipeline.LiveProgress", side_effect=Reached("reached")), \
            mock.patch("harness.stack.embedded.EmbeddedStack.up",
                       side_effect=Reached("reached")), \
            mock.patch("harness.stack.embedded._is_app_process", return_value=False):
        yield out, err


ALLOWED = ("reports", "out", "state")  # the folders a command is given (--report-dir, --out,
# HARNESS_STATE_DIR); everything else in its scratch folder was written by the test


def _check_one(command: str, args: list[str], files: dict[str, bytes]) -> None:
    watched = [REPO / "reports", REPO / ".harness"]
    before = [_tree(p) for p in watched]
    with tempfile.TemporaryDirectory(prefix="harness-prop-") as name:
        tmp = Path(name)
        for rel, content in files.items():
            path = tmp / rel
            if path.parent.is_file():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        given = set(_tree(tmp))
        argv = _fill(args, tmp)
        cwd = Path.cwd()
        os.chdir(tmp)  # a file written relative to the working folder shows up below
        try:
            with _sandbox(tmp) as (_, err):
                code = main(argv)
        finally:
            os.chdir(cwd)
        stderr = err.getvalue()
        TRIED[command] += 1
        assert code in DOCUMENTED, (argv, code, stderr)
        assert "internal error" not in stderr, (argv, stderr)
        assert "Traceback" not in stderr, (argv, stderr)
        if code == 2:
            assert len(stderr.strip().splitlines()) >= 1, (argv, "exit 2 said nothing")
        stray = [p for p in set(_tree(tmp)) - given
                 if Path(p).relative_to(tmp).parts[0] not in ALLOWED]
        assert not stray, (argv, "wrote outside the given directories", stray)
    assert [_tree(p) for p in watched] == before, (argv, "wrote into the repository")


@pytest.mark.timeout(max(600, EXAMPLES * 3))
def test_every_command_exits_as_documented_for_any_input(valid: dict[str, bytes]) -> None:
    @PROPERTY
    @given(case=invocation(valid))
    def check(case: tuple[str, list[str], dict[str, bytes]]) -> None:
        _check_one(*case)

    check()


# --------------------------------------------------------------------------- validate

STACK_FILES = ["k8s/base/deployment.yaml", "k8s/base/hpa.yaml", "k8s/base/pdb.yaml",
               "k8s/base/configmap.yaml", "compose/docker-compose.yml"]


@st.composite
def stack_change(draw: st.DrawFn) -> tuple[str, bytes]:
    rel = draw(st.sampled_from(STACK_FILES))
    documents = [d for d in yaml.safe_load_all((REPO / "stack" / rel).read_text()) if d]
    return rel, draw(yaml_mutation(documents[0]))


@pytest.mark.timeout(max(600, EXAMPLES * 3))
def test_validate_exits_as_documented_for_any_stack_folder(tmp_path: Path) -> None:
    base = tmp_path / "stack"
    shutil.copytree(REPO / "stack", base, ignore=shutil.ignore_patterns(
        "__pycache__", "*.pyc", "app", ".env", "secrets.env"))

    @settings(PROPERTY, max_examples=max(EXAMPLES // 25, 4))
    @given(change=stack_change(), fmt=st.sampled_from(["json", "text"]))
    def check(change: tuple[str, bytes], fmt: str) -> None:
        rel, content = change
        target = base / rel
        original = target.read_bytes()
        target.write_bytes(content)
        try:
            err = io.StringIO()
            out = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                code = main(["validate", "--stack-dir", str(base), "--format", fmt])
            TRIED["validate"] += 1
            assert code in DOCUMENTED, (rel, code, err.getvalue())
            assert "internal error" not in err.getvalue(), (rel, err.getvalue())
            if fmt == "json":
                json.loads(out.getvalue())  # a document, whatever happened
        finally:
            target.write_bytes(original)

    check()


def test_report_counts() -> None:
    """Prints how many inputs each command was tried with (visible with -s)."""
    print("\ninputs tried per command:", dict(sorted(TRIED.items())),
          "total", sum(TRIED.values()), f"(HARNESS_FUZZ_EXAMPLES={EXAMPLES})")
    assert paths.project_root() == REPO
