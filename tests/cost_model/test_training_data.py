"""The committed training exports read back and say how they were made."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotune.cost_model._dataset import read_export

TRAINING = Path(__file__).resolve().parents[2] / "corpora" / "training"
EXPORTS = sorted(TRAINING.glob("*.jsonl.gz"))


@pytest.mark.parametrize("path", EXPORTS, ids=[p.name for p in EXPORTS])
def test_each_export_reads_back_with_its_provenance(path: Path) -> None:
    data = read_export(path)
    assert len(data) > 0 and data.made.get("note")
    assert all(w.family != "other" for w in data.workloads)
    assert sum(len(w.usable()) for w in data.workloads) > 10 * len(data.workloads) // 2


def test_the_exports_hold_hand_written_and_generated_programs() -> None:
    families = {w.family for path in EXPORTS for w in read_export(path).workloads}
    assert any(f.startswith("synthetic-") for f in families)
    assert {"dense-la", "stencil", "reduction"} <= families
