"""Every configuration the harness reads, fuzzed: scenario files, SLO spec files, the PDB the
replica controller reads, and the harness's own settings (HARNESS_* variables and flags).

Whatever the input, `harness run` either gets as far as starting the stack (here stopped just
before anything starts) or exits 2 with one line naming the file (and field) — never a
traceback. Each test counts the inputs it tried; test_report_counts prints the totals.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
from collections import Counter
from pathlib import Path
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import paths
from harness.cli import main
from harness.errors import HarnessError

TRIED: Counter[str] = Counter()
EXAMPLES = int(os.environ.get("HARNESS_FUZZ_EXAMPLES", "250"))
# Derandomized (the same inputs every run, as CI needs) unless HARNESS_FUZZ_RANDOM=1.
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                derandomize=os.environ.get("HARNESS_FUZZ_RANDOM", "") != "1",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

VALID_SCENARIO = {
    "name": "fuzz",
    "description": "fuzzed",
    "stages": [{"duration": "10s", "users": 5, "spawn_rate": 5},
               {"duration": "20s", "users": 10, "steady": True}],
    "seed": {"tickets": 100},
    "autoscaling": {"enabled": False, "sync_period": "3s"},
    "app_settings": {"DB_POOL_MAX": "7"},
    "slo": {"latency": {"p95_ms": 300}, "faults": {"window": "20s"}},
    "faults": [{"at": "12s", "kind": "kill-replica", "count": 1}],
}
VALID_SLO = yaml.safe_load(Path(paths.slo_spec_path()).read_text())


class Reached(HarnessError):
    """Raised where the run would start the stack: the configuration was accepted."""


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), \
            mock.patch("harness.pipeline.LiveProgress", side_effect=Reached("reached")), \
            mock.patch.dict(os.environ, env or {}):
        code = main(args)
    return code, err.getvalue()


def _assert_clean(code: int, stderr: str, names: str | None) -> None:
    assert "Traceback" not in stderr, stderr
    assert "internal error" not in stderr, stderr
    if code == 3 and "reached" in stderr:
        return  # accepted: the run got to where the stack would start
    assert code == 2, (code, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    if names is not None:
        assert names in lines[0], (names, lines[0])


# --------------------------------------------------------------------------- values

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "0", "-1", "1e400", "nan", "inf", "10s", "-5s", "1h30m", "9999d",
                     "abc", "kill-replica", "stop-redis", "SIGKILL", "50%", "true", "\x00",
                     "ünïcode", "a" * 300, "{", "[]", "*anchor"]),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=12) | st.sampled_from(
                                ["at", "kind", "duration", "users", "name", "p95_ms"]),
                                inner, max_size=4)),
    max_leaves=12,
)


def _paths(data: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


def _replace(data: object, where: tuple, value: object, delete: bool) -> object:
    if not where:
        return value
    head, *rest = where
    if isinstance(data, dict):
        copy = dict(data)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _replace(copy[head], tuple(rest), value, delete)
        return copy
    if isinstance(data, list):
        copy_list = list(data)
        if delete and not rest:
            del copy_list[head]
        else:
            copy_list[head] = _replace(copy_list[head], tuple(rest), value, delete)
        return copy_list
    return value


@st.composite
def mutated(draw: st.DrawFn, valid: dict) -> str:
    """A valid document with some fields replaced, deleted or added, or raw text."""
    kind = draw(st.sampled_from(["mutate", "mutate", "mutate", "text", "yaml"]))
    if kind == "text":
        return draw(st.text(max_size=200))
    if kind == "yaml":
        return yaml.safe_dump(draw(values), allow_unicode=True)
    data: object = valid
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(_paths(data)))
        data = _replace(data, where, draw(values), delete=bool(where) and draw(st.booleans()))
    try:
        return yaml.safe_dump(data, allow_unicode=True)
    except yaml.YAMLError:
        return "{"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# --------------------------------------------------------------------------- the files

@FUZZ
@given(text=mutated(VALID_SCENARIO))
def test_any_scenario_file_is_accepted_or_named_in_one_line(folder: Path, text: str) -> None:
    TRIED["scenario"] += 1
    path = _write(folder, "scenario.yaml", text)
    code, stderr = _run(["run", "--scenario", str(path), "--no-progress",
                         "--report-dir", str(folder / "reports")])
    _assert_clean(code, stderr, str(path))


@FUZZ
@given(text=mutated(VALID_SLO))
def test_any_slo_spec_is_accepted_or_named_in_one_line(folder: Path, text: str) -> None:
    TRIED["slo"] += 1
    scenario = _write(folder, "ok.yaml", yaml.safe_dump(VALID_SCENARIO))
    path = _write(folder, "slo.yaml", text)
    code, stderr = _run(["run", "--scenario", str(scenario), "--slo", str(path),
                         "--no-progress", "--report-dir", str(folder / "reports")])
    _assert_clean(code, stderr, str(path))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the stack definitions and load tests, to break one file in."""
    copy = tmp_path_factory.mktemp("root")
    shutil.copytree(paths.stack_dir() / "k8s", copy / "stack" / "k8s")
    shutil.copytree(paths.loadtests_dir(), copy / "loadtests")
    return copy


PDB = yaml.safe_load((paths.k8s_base_dir() / "pdb.yaml").read_text())


@FUZZ
@given(text=mutated(PDB))
def test_any_disruption_budget_is_accepted_or_named_in_one_line(root: Path, text: str) -> None:
    TRIED["pdb"] += 1
    path = _write(root / "stack" / "k8s" / "base", "pdb.yaml", text)
    code, stderr = _run(["run", "--scenario", "smoke", "--no-progress",
                         "--report-dir", str(root / "reports")],
                        env={"HARNESS_ROOT": str(root)})
    _assert_clean(code, stderr, str(path))


# --------------------------------------------------------------------------- the settings

settings_text = st.one_of(scalars.map(lambda v: "" if v is None else str(v)),
                          st.text(max_size=30))
env_names = st.sampled_from(["HARNESS_STACK", "HARNESS_WORKERS", "HARNESS_REPORT_DIR",
                             "HARNESS_TARGET", "HARNESS_DATABASE_URL", "HARNESS_REDIS_URL",
                             "HARNESS_DEBUG"])
flags = st.sampled_from(["--duration", "--replicas", "--workers", "--stack", "--target",
                         "--database-url", "--redis-url", "--run-id", "--scenario"])


@FUZZ
@given(env=st.dictionaries(env_names, settings_text, max_size=3),
       given_flags=st.lists(st.tuples(flags, settings_text), max_size=3))
def test_any_harness_setting_is_accepted_or_refused_in_one_line(
        folder: Path, env: dict[str, str], given_flags: list[tuple[str, str]]) -> None:
    TRIED["settings"] += 1
    env = {k: v.replace("\x00", "") for k, v in env.items()}
    if env.get("HARNESS_DEBUG", "") not in ("", "0", "false"):
        env.pop("HARNESS_DEBUG")  # --debug asks for tracebacks on purpose
    env.setdefault("HARNESS_REPORT_DIR", str(folder / "reports"))
    args = ["run", "--no-progress"]
    for flag, value in given_flags:
        args += [flag, value.replace("\x00", "")]
    code, stderr = _run(args, env=env)
    _assert_clean(code, stderr, None)


def test_report_counts() -> None:
    """Runs last in this module: how many malformed (and valid) inputs were tried."""
    total = sum(TRIED.values())
    print(f"\nfuzzed configuration inputs: {dict(TRIED)}, {total} in all")
    assert total == 0 or total >= 4 * min(EXAMPLES, 10)
    assert not math.isnan(total)
