"""A report folder holds one complete run: staged, published as a whole, never mixed."""

from __future__ import annotations

import json

import pytest

from research.errors import OutputError
from research.reporting.provenance import file_hash
from research.reporting.publish import MANIFEST, read_manifest, report_run


def _run(folder, files, **options):
    with report_run(folder, planned=list(files), **options) as run:
        for name, text in files.items():
            path = run.staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return run


def _contents(folder):
    return {
        str(p.relative_to(folder)): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def test_a_run_publishes_its_files_with_a_manifest(tmp_path):
    out = tmp_path / "reports"
    run = _run(out, {"01_a.pdf": "a1", "review.pdf": "r1", "_build/01_a.ipynb": "n1"})
    assert _contents(out) == {"01_a.pdf": "a1", "review.pdf": "r1", "_build/01_a.ipynb": "n1"}
    manifest = read_manifest(out)
    assert manifest["run_id"] == run.run_id
    assert manifest["files"] == {
        name: file_hash(out / name) for name in ["01_a.pdf", "_build/01_a.ipynb", "review.pdf"]
    }
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["01_a.pdf", "_build", MANIFEST, "review.pdf"]
    )


def test_a_new_run_replaces_the_previous_run_as_a_whole(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    (out / "notes.txt").write_text("a user's file")
    _run(out, {"01_a.pdf": "a1", "02_b.pdf": "b1", "_build/02_b.ipynb": "n1"})
    second = _run(out, {"01_a.pdf": "a2", "_build/01_a.ipynb": "n2"})
    assert _contents(out) == {
        "01_a.pdf": "a2",
        "_build/01_a.ipynb": "n2",
        "notes.txt": "a user's file",
    }
    assert read_manifest(out)["run_id"] == second.run_id


def test_a_failed_run_leaves_the_previous_set_untouched(tmp_path):
    out = tmp_path / "reports"
    first = _run(out, {"01_a.pdf": "a1", "02_b.pdf": "b1", "review.pdf": "r1"})
    before = _contents(out)
    with pytest.raises(RuntimeError, match="study 02"):
        with report_run(out, planned=["01_a.pdf", "02_b.pdf", "review.pdf"]) as run:
            (run.staging / "01_a.pdf").write_text("a2")
            raise RuntimeError("study 02 failed")
    assert _contents(out) == before
    assert read_manifest(out)["run_id"] == first.run_id
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["01_a.pdf", "02_b.pdf", MANIFEST, "review.pdf"]
    )


def test_a_file_the_previous_run_did_not_write_stops_the_run_before_it_starts(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    (out / "review.pdf").write_text("someone's own review")
    with pytest.raises(OutputError, match=r"\['review.pdf'\].*--force"):
        with report_run(out, planned=["review.pdf"]):
            pytest.fail("the run started")
    assert (out / "review.pdf").read_text() == "someone's own review"
    assert [p.name for p in out.iterdir()] == ["review.pdf"]
    _run(out, {"review.pdf": "ours"}, force=True)
    assert (out / "review.pdf").read_text() == "ours"


def test_a_file_edited_since_the_run_is_not_replaced_without_force(tmp_path):
    out = tmp_path / "reports"
    _run(out, {"review.pdf": "r1", "01_a.pdf": "a1"})
    (out / "review.pdf").write_text("annotated by a reviewer")
    with pytest.raises(OutputError, match="review.pdf"):
        _run(out, {"review.pdf": "r2"})
    assert (out / "review.pdf").read_text() == "annotated by a reviewer"


def test_a_folder_without_manifest_is_flagged_not_mixed(tmp_path):
    """Files left by a run interrupted while publishing (no manifest) are not taken as ours."""
    out = tmp_path / "reports"
    _run(out, {"01_a.pdf": "a1", "02_b.pdf": "b1"})
    (out / MANIFEST).unlink()
    with pytest.raises(OutputError, match="none found"):
        _run(out, {"01_a.pdf": "a2", "02_b.pdf": "b2"})


def test_a_damaged_manifest_counts_as_none(tmp_path):
    out = tmp_path / "reports"
    _run(out, {"01_a.pdf": "a1"})
    text = (out / MANIFEST).read_text()
    (out / MANIFEST).write_text(text[: len(text) // 2])
    assert read_manifest(out) is None
    with pytest.raises(OutputError):
        _run(out, {"01_a.pdf": "a2"})
    assert json.loads(text)["files"] == {"01_a.pdf": file_hash(out / "01_a.pdf")}
