"""``explain``: per nest and band, which transformations are legal and why not."""

from __future__ import annotations

import textwrap

from autotune.loops import lift_source
from autotune.loops._explain import explain_analysis, format_report
from autotune.loops._kernel import analyze_kernel
from tests.loops.test_deps import HISTOGRAM, SEIDEL


def _report(source: str):  # type: ignore[no-untyped-def]
    return explain_analysis(analyze_kernel(lift_source(textwrap.dedent(source), "kernel")))


def test_seidel_lists_the_dependence_that_blocks_each_transformation() -> None:
    report = _report(SEIDEL)
    (nest,) = report.nests
    (band,) = nest.bands
    verdicts = {v.transform: v for v in band.verdicts}
    swap = verdicts["interchange to (j, i)"]
    assert not swap.legal
    assert "dependence" in swap.reason and "on A" in swap.reason
    assert not verdicts["prange i"].legal
    enabling = verdicts["skewing/reversal to make the band permutable"]
    assert enabling.legal and "j -> i + j" in enabling.reason


def test_untransformable_nests_say_why() -> None:
    lines = format_report(_report(HISTOGRAM))
    assert any("not transformable, because" in ln and "indirect subscript" in ln for ln in lines)


def test_report_is_json_friendly() -> None:
    import json

    data = _report(SEIDEL).as_dict()
    assert json.loads(json.dumps(data))["nests"][0]["bands"][0]["loops"] == ["i", "j"]
