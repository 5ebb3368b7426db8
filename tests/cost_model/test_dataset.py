"""Datasets of measured configs: the export round trip, bad files, families, rows."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from autotune.cost_model._dataset import kernel_family, merge, read_export, write_export
from autotune.cost_model._scoring import ROW_NAMES
from autotune.testing.datasets import CONFIGS, dataset


def test_an_export_reads_back_as_the_same_workloads_and_trials(tmp_path: Path) -> None:
    original = dataset(4)
    path = tmp_path / "d.jsonl.gz"
    write_export(original, path, {"commit": "abc"})
    loaded = read_export(path)
    assert [w.key for w in loaded.workloads] == [w.key for w in original.workloads]
    for before, after in zip(original.workloads, loaded.workloads, strict=True):
        assert [t.config for t in after.trials] == [t.config for t in before.trials]
        assert [t.speedup for t in after.trials] == pytest.approx(
            [t.speedup for t in before.trials], rel=1e-5
        )
        assert after.features == pytest.approx(before.features, rel=1e-5)
    assert loaded.made["commit"] == "abc"


def test_rows_have_the_model_columns_and_one_row_per_usable_trial() -> None:
    data = dataset(3)
    X, y, groups = data.rows()
    usable = sum(len(w.usable()) for w in data.workloads)
    assert X.shape == (usable, len(ROW_NAMES)) and len(y) == usable == len(groups)
    assert usable == len(data.workloads) * (len(CONFIGS) + 1)


def test_a_damaged_export_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl.gz"
    write_export(dataset(2), path, {})
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    lines[3] = lines[3][:20]
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    with pytest.raises(ValueError, match="line 4"):
        read_export(path)
    path.write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="not a readable export"):
        read_export(path)


def test_merging_keeps_every_trial_of_a_workload_seen_twice() -> None:
    one = dataset(2)
    merged = merge([one, one])
    assert len(merged) == len(one)
    assert len(merged.workloads[0].trials) == 2 * len(one.workloads[0].trials)


def test_families_of_hand_written_generated_and_unknown_kernels() -> None:
    assert kernel_family("matmul") == kernel_family("gemm") == kernel_family("two_mm")
    assert kernel_family("syn_s1_ew1d_0059") == "synthetic-elementwise"
    assert kernel_family("syn_s0_stencil2d_0001") == "synthetic-stencil"
    assert kernel_family("my_own_kernel") == "other"


def test_a_workloads_winner_travels_with_the_export(tmp_path: Path) -> None:
    from dataclasses import replace

    original = dataset(2)
    first = replace(original.workloads[0], winner={"flags.fastmath": "all"}, winner_speedup=1.5)
    data = replace(original, workloads=(first, *original.workloads[1:]))
    path = tmp_path / "d.jsonl.gz"
    write_export(data, path, {})
    loaded = read_export(path).workloads[0]
    assert loaded.winner == {"flags.fastmath": "all"} and loaded.winner_speedup == 1.5
    assert ("p0", {"flags.fastmath": "all"}, 1.5, "winner", {}) in loaded.coreset_rows()


def test_an_export_appears_only_when_complete(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl.gz"
    write_export(dataset(2), path, {})
    assert path.exists() and not list(tmp_path.glob("*.partial"))
