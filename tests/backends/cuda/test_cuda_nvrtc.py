"""Compiling CUDA C++ to sm_90 cubins with NVRTC, on a machine with no GPU."""

from __future__ import annotations

import pytest
from _cuda_sources import BROKEN, SCALE, TILE_TEMPLATE

from autotune.backends._cuda import _nvrtc, compile_cubin, nvrtc_unavailable, nvrtc_version

needs_nvrtc = pytest.mark.skipif(
    nvrtc_unavailable() is not None, reason=f"NVRTC is not usable here: {nvrtc_unavailable()}"
)


@needs_nvrtc
def test_compiles_a_cubin_with_its_resources():
    out = compile_cubin(SCALE, "scale", ["-std=c++17", "-DSCALE_BY=2.0f"], arch="sm_90")
    assert out.error == "" and out.ok
    assert out.cubin is not None and out.cubin[:4] == b"\x7fELF"
    assert out.lowered_name == "scale"
    assert out.resources is not None and out.resources.registers > 0
    assert out.resources.shared_static_bytes == 256 * 4
    assert out.arch == "sm_90" and out.nvrtc_version == nvrtc_version() != ""
    assert "Compiling entry function 'scale' for 'sm_90'" in out.log
    assert out.compile_s > 0


@needs_nvrtc
def test_compile_error_is_a_value():
    out = compile_cubin(BROKEN, "broken", [])
    assert out.cubin is None and not out.ok
    assert out.error.startswith("NVRTC_ERROR_COMPILATION")
    assert 'identifier "undefined_value" is undefined' in out.error
    assert "broken.cu(4)" in out.error
    assert out.resources is None
    assert "undefined_value" in out.log


@needs_nvrtc
def test_missing_define_is_a_compile_error():
    out = compile_cubin(SCALE, "scale", [])
    assert out.cubin is None and "SCALE_BY" in out.error


@needs_nvrtc
def test_template_instance_by_name_expression():
    out = compile_cubin(TILE_TEMPLATE, "tile", ["-std=c++17"], name_expression="tile<8, 16>")
    assert out.ok, out.error
    assert out.lowered_name.startswith("_Z") and out.lowered_name != "tile"
    assert out.resources is not None and out.resources.shared_static_bytes == 8 * 16 * 4
    other = compile_cubin(TILE_TEMPLATE, "tile", ["-std=c++17"], name_expression="tile<4, 4>")
    assert other.lowered_name != out.lowered_name
    assert other.resources is not None and other.resources.shared_static_bytes == 4 * 4 * 4


@needs_nvrtc
def test_kernel_missing_from_the_module_is_an_error():
    # Without extern "C" the symbol is mangled, so the entry cannot be found by name.
    out = compile_cubin(
        TILE_TEMPLATE + "__global__ void plain(float* d) { d[0] = 1; }", "plain", []
    )
    assert out.cubin is None
    assert "no kernel named 'plain'" in out.error and "_Z5plainPf" in out.error


@needs_nvrtc
@pytest.mark.parametrize(
    ("options", "arch", "fragment"),
    [
        (["-arch=sm_80"], "sm_90", "set the architecture with arch="),
        (["--gpu-architecture=sm_80"], "sm_90", "set the architecture with arch="),
        ([], "compute_90", "real architecture"),
        ([], "sm_20", "cannot target sm_20"),
    ],
)
def test_bad_arch_or_options_are_values(options, arch, fragment):
    out = compile_cubin(SCALE, "scale", ["-DSCALE_BY=1", *options], arch=arch)
    assert out.cubin is None and fragment in out.error


@needs_nvrtc
def test_an_unknown_option_is_a_value():
    out = compile_cubin(SCALE, "scale", ["-DSCALE_BY=1", "--no-such-option"])
    assert out.cubin is None and out.error


def test_missing_nvrtc_is_a_reason_not_an_exception(monkeypatch, tmp_path):
    monkeypatch.setenv(_nvrtc.NVRTC_LIBRARY_ENV, str(tmp_path / "libnvrtc.so.99"))
    _nvrtc._load.cache_clear()
    try:
        reason = nvrtc_unavailable()
        assert reason is not None and "NVRTC not found" in reason
        assert nvrtc_version() == ""
        out = compile_cubin(SCALE, "scale", [])
        assert out.cubin is None and "NVRTC not found" in out.error
    finally:
        monkeypatch.undo()
        _nvrtc._load.cache_clear()
