"""harness.atomic: a file is replaced whole, its folder made, no temporary file left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.atomic import replacing, write_json, write_text


def test_write_text_makes_the_folder_and_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "report.md"
    assert write_text(path, "first\n") == path
    write_text(path, "second\n")
    assert path.read_text(encoding="utf-8") == "second\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.md"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_text(path, "old\n")
    with pytest.raises(UnicodeEncodeError):
        write_text(path, "half \udcff written")  # a lone surrogate cannot be encoded
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_write_json_is_indented_sorted_and_ends_in_a_newline(tmp_path: Path) -> None:
    path = write_json(tmp_path / "plan.json", {"b": 1, "a": [1, 2]})
    assert path.read_text(encoding="utf-8") == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'


def test_replacing_hands_out_a_temporary_path_and_replaces_only_on_success(
    tmp_path: Path,
) -> None:
    path = tmp_path / "export.csv"
    with replacing(path) as temporary:
        assert temporary.parent == tmp_path and temporary != path
        temporary.write_text("a,b\n", encoding="utf-8")
        assert not path.exists()
    assert path.read_text(encoding="utf-8") == "a,b\n"
    with pytest.raises(RuntimeError), replacing(path) as temporary:
        temporary.write_text("half", encoding="utf-8")
        raise RuntimeError("the writer failed")
    assert path.read_text(encoding="utf-8") == "a,b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]
