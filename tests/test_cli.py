"""The CLI in-process: exit statuses and one-line errors (httpie-style)."""

import pytest

from harness.cli import main
from harness.status import ExitStatus


def run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_lists_the_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == ExitStatus.OK
    for command in ("run", "up", "down", "scenarios", "validate"):
        assert command in out


@pytest.mark.parametrize("command", ["run", "up", "down", "scenarios", "validate"])
def test_every_command_has_help(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == ExitStatus.OK
    assert "Usage" in out


def test_command_summaries_flow_as_sentences(capsys, monkeypatch):
    """A docstring wrapped in the source reads as one paragraph at 80 columns: a row of the
    command list breaks only where the next word would not have fitted."""
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "--help")
    assert code == ExitStatus.OK
    panel = out[out.index("Commands"):]
    rows = [line for line in panel.splitlines() if line.startswith("│ ")]
    start = rows[0].index(rows[0].split()[2])  # where the description column begins
    cells = [(row[2:start].strip(), row[start:-1].rstrip()) for row in rows]
    width = max(len(cell) for _, cell in cells)
    for (_, cell), (command, following) in zip(cells, cells[1:], strict=False):
        if not command:  # a continuation of the same summary
            assert len(cell) + 1 + len(following.split()[0]) > width, (cell, following)


def test_scenarios_lists_each_bundled_one_on_a_line(capsys):
    code, out, _ = run(capsys, "scenarios")
    assert code == ExitStatus.OK
    lines = [line for line in out.splitlines() if line.strip()]
    for name in ("smoke", "baseline", "peak", "spike", "soak", "stress"):
        assert sum(line.startswith(name) for line in lines) == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "--stack", "nowhere"], "--stack"),
        (["run", "--bogus"], "--bogus"),
        (["run", "--duration", "soon"], "--duration"),
        (["run", "--replicas", "0"], "--replicas"),
        (["run", "--scenario", "no-such-scenario"], "no-such-scenario"),
        (["run", "--stack", "external"], "--target"),
        (["run", "--target", "ftp://example"], "--target"),
        (["no-such-command"], "no-such-command"),
        (["run", "--tag", "env"], "--tag 'env'"),
        (["run", "--tag", "run_id=x"], "--tag 'run_id=x'"),
        (["run", "--remote-write", "localhost:9090"], "--remote-write"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(capsys, args, words):
    code, _, err = run(capsys, *args)
    assert code == ExitStatus.BAD_CONFIG
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert words in lines[0]
    assert "Traceback" not in err


def test_malformed_scenario_file_names_file_and_field(capsys, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\ndescription: x\nstages:\n  - {duration: 10s, users: lots}\n")
    code, _, err = run(capsys, "run", "--scenario", str(path))
    assert code == ExitStatus.BAD_CONFIG
    line = err.strip()
    assert "\n" not in line
    assert str(path) in line and "stages -> 0 -> users" in line


def test_down_without_up_is_fine(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_STATE_DIR", str(tmp_path))
    code, out, _ = run(capsys, "down")
    assert code == ExitStatus.OK
    assert "nothing to stop" in out


def _complete(capsys, monkeypatch, words: str) -> list[str]:
    """What bash completion offers for `words` (the shell calls the program like this)."""
    monkeypatch.setenv("_HARNESS_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(len(words.split(" ")) - 1))
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 0
    return capsys.readouterr().out.split()


def test_shell_completion_is_on(capsys, monkeypatch):
    code, out, _ = run(capsys, "--help")
    assert "--install-completion" in out and "--show-completion" in out
    assert _complete(capsys, monkeypatch, "harness ru") == ["run", "rules"]
    assert _complete(capsys, monkeypatch, "harness run --stack ") == [
        "embedded", "local", "compose", "k8s", "external"]
    assert _complete(capsys, monkeypatch, "harness run --scenario sp") == ["spike"]
