"""``explain``: per nest and band, which transformations are legal and why not."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from autotune.kernels import KernelDecl, load_kernels
from autotune.loops import explain_kernel, lift_source, why_nothing_to_transform
from autotune.loops._explain import explain_analysis, format_report
from autotune.loops._kernel import analyze_kernel
from autotune.passes import cpu_search_space
from tests._helpers import CORPUS
from tests.loops.test_deps import DOT, HISTOGRAM, SEIDEL


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


def _matmul() -> KernelDecl:
    (decl,) = load_kernels(CORPUS / "matmul.py")
    return decl


def _line_of(path: Path, text: str) -> int:
    return 1 + next(n for n, ln in enumerate(path.read_text().splitlines()) if text in ln)


def test_a_nest_is_reported_at_its_for_statements_line_in_the_file() -> None:
    decl = _matmul()
    (nest,) = explain_kernel(decl.pyfunc, decl.allow_fastmath).nests
    assert nest.line == _line_of(CORPUS / "matmul.py", "for i in range(n):")


def test_nests_and_bands_are_named_as_their_config_keys() -> None:
    decl = _matmul()
    report = explain_kernel(decl.pyfunc, decl.allow_fastmath)
    lines = format_report(report)
    line = _line_of(CORPUS / "matmul.py", "for i in range(n):")
    assert any(ln.startswith(f"  nest n2 (line {line}): ") for ln in lines)
    assert "    band n2.b1: loops (i, j, k)" in lines
    for mode, parallel in (("serial", False), ("parallel", True)):
        space = cpu_search_space(decl, loops=mode, scope="compiler", max_threads=4).names
        listed = {k for b in report.nests[0].bands for k in b.keys}
        if parallel:
            listed |= {k for b in report.nests[0].bands for k in b.parallel_keys}
        assert listed == {n for n in space if n.startswith("loops.n")}
    keys = next(ln for ln in lines if "config keys:" in ln and "loops.n2.b1.order" in ln)
    assert "loops.n2.b1.tile" in keys and "--loops parallel also loops.n2.b1.parallel" in keys


def test_the_header_is_the_declared_kernel_name() -> None:
    assert explain_kernel(_matmul().pyfunc, name="renamed").kernel == "renamed"
    assert _report(SEIDEL).kernel == "kernel"


def test_the_reassociation_note_needs_a_scalar_reduction_it_concerns() -> None:
    def note(source: str) -> list[str]:
        report = explain_analysis(analyze_kernel(lift_source(source, "kernel"), True))
        return [ln for ln in format_report(report) if "may be reassociated" in ln]

    assert note(DOT) == [
        "  reductions into scalars may be reassociated (the kernel allows fastmath): band n1.b0"
    ]
    assert note(HISTOGRAM) == []  # no nest lifted
    assert note(SEIDEL) == []  # lifted, but no scalar reduction
    assert not [ln for ln in format_report(_report(DOT)) if "may be reassociated" in ln]


def _slices(A, x, y):  # type: ignore[no-untyped-def]
    for i in range(A.shape[0]):
        y[i] = np.sum(A[i, ::2] * x)  # a slice with a step stays a slice


def _prefix_sums(x, out):  # type: ignore[no-untyped-def]
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
        out[i] = s


def _no_loops(x):  # type: ignore[no-untyped-def]
    return x + 1


def test_why_nothing_to_transform_names_the_first_reason() -> None:
    slice_line = _line_of(Path(__file__), "y[i] = np.sum(A[i, ::2] * x)")
    assert why_nothing_to_transform(_slices, mode="serial") == (
        f"no loop nest can be transformed (line {slice_line}: slice A[i, ::2])"
    )
    assert why_nothing_to_transform(_no_loops, mode="parallel") == "it has no top-level loop nest"
    assert why_nothing_to_transform(_matmul().pyfunc, mode="serial") is None
    assert why_nothing_to_transform(_slices, mode="off") is None


def test_a_nest_that_lifts_with_nothing_to_choose_says_so() -> None:
    for mode in ("serial", "parallel"):
        why = why_nothing_to_transform(_prefix_sums, True, mode)
        assert why is not None and why.startswith(
            "no loop nest has a legal transformation to choose (line "
        ), why
    assert "prange i is illegal" in (why_nothing_to_transform(_prefix_sums, True, "parallel") or "")


def _array_statements_only(a, b):  # type: ignore[no-untyped-def]
    a[1:] = a[:-1] + a[2:]
    b[::2] = 0.0


def test_array_statements_are_listed_even_without_loop_nests() -> None:
    lines = format_report(explain_kernel(_array_statements_only))
    text = "\n".join(lines)
    assert "no top-level loop nests" in text
    assert "left as written: a[1:] = a[:-1] + a[2:]" in text
    assert "because a slice of b with a step" in text
