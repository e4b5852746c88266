"""research._io: atomic writes and up-front checks of output paths."""

from __future__ import annotations

import pytest

from research._io import atomic_path, check_output_file, check_output_folder, write_atomic
from research.errors import OutputError


def test_write_atomic_replaces_a_file_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    write_atomic(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_a_failure_while_writing_keeps_the_old_file(tmp_path):
    path = tmp_path / "review.pdf"
    path.write_bytes(b"old complete report")
    with pytest.raises(RuntimeError, match="LaTeX"):
        with atomic_path(path) as partial:
            partial.write_bytes(b"half a rep")
            raise RuntimeError("LaTeX failed")
    assert path.read_bytes() == b"old complete report"
    assert [p.name for p in tmp_path.iterdir()] == ["review.pdf"]


def test_the_temporary_file_keeps_the_suffix_for_tools_that_check_it(tmp_path):
    with atomic_path(tmp_path / "study.ipynb") as partial:
        assert partial.parent == tmp_path and partial.suffix == ".ipynb"
        partial.write_text("{}")
    assert (tmp_path / "study.ipynb").read_text() == "{}"


def test_no_overwrite_keeps_a_file_that_appeared_meanwhile(tmp_path):
    path = tmp_path / "params.json"
    with pytest.raises(OutputError, match="exists"):
        with atomic_path(path, overwrite=False) as partial:
            partial.write_text("ours")
            path.write_text("theirs")
    assert path.read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["params.json"]


def test_check_output_file(tmp_path):
    with pytest.raises(OutputError, match="missing_dir does not exist"):
        check_output_file(tmp_path / "missing_dir" / "x.json")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(OutputError, match="exists; pass --force"):
        check_output_file(tmp_path / "x.json")
    assert check_output_file(tmp_path / "x.json", force=True) == tmp_path / "x.json"
    with pytest.raises(OutputError, match="is a folder"):
        check_output_file(tmp_path, force=True)
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_check_output_folder(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="is not a folder"):
        check_output_folder(tmp_path / "file")
    with pytest.raises(OutputError, match="does not exist"):
        check_output_folder(tmp_path / "a" / "b", create=True)
    assert check_output_folder(tmp_path / "a", create=True).is_dir()
