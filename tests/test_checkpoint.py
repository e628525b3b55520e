"""The import checkpoint: merged ranges of done lines, saved and loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookapi.bulk.checkpoint import Checkpoint, CheckpointError

IDENTITY = {"sha256": "abc", "table": "books"}


def test_out_of_order_ranges_merge(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "c.json", IDENTITY)

    for first, last in [(27, 51), (77, 101), (1, 26), (52, 76)]:
        checkpoint.mark_done(first, last)

    assert checkpoint.ranges == [(1, 101)]


def test_gap_limits_done_through(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "c.json", IDENTITY)
    checkpoint.mark_done(1, 26)
    checkpoint.mark_done(52, 76)

    assert checkpoint.done_through() == 26
    assert checkpoint.is_done(26)
    assert not checkpoint.is_done(27)
    assert checkpoint.is_done(60)
    assert not checkpoint.is_done(77)


def test_saved_checkpoint_loads_same_ranges(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "c.json", IDENTITY)
    checkpoint.mark_done(1, 26)
    checkpoint.mark_done(52, 76)
    checkpoint.save()

    loaded = Checkpoint.load(tmp_path / "c.json", IDENTITY)

    assert loaded.ranges == [(1, 26), (52, 76)]


def test_checkpoint_of_other_table_is_rejected(tmp_path: Path) -> None:
    Checkpoint(tmp_path / "c.json", IDENTITY).save()

    with pytest.raises(CheckpointError, match="different table"):
        Checkpoint.load(tmp_path / "c.json", {**IDENTITY, "table": "other"})


def test_unreadable_checkpoint_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text("{not json", encoding="utf-8")

    with pytest.raises(CheckpointError, match="delete it"):
        Checkpoint.load(tmp_path / "c.json", IDENTITY)
