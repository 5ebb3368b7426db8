"""The host-side logic of the GPU-only modules, against a stand-in for CuPy that keeps a
fake clock: which call each event pair brackets, the ABAB/BABA order, the L2 flush, the
cubin file handed to ``RawModule`` and the shared-memory opt-in."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from autotune.backends._cuda import LoadedKernel, time_paired_events


class FakeCuda:
    """Just the part of ``cupy`` and ``cupy.cuda`` that the modules call."""

    cudaDevAttrL2CacheSize = 38

    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[str] = []
        self.synchronized = 0
        self.cuda = self
        self.runtime = self
        self.uint8 = "uint8"
        self.modules: list[FakeModule] = []
        fake = self

        class Event:
            def record(self, stream=None) -> None:
                self.at = fake.now

            def synchronize(self) -> None:
                fake.synchronized += 1

        self.Event = Event

    def Device(self):
        return types.SimpleNamespace(id=0, synchronize=self._synchronize)

    def _synchronize(self) -> None:
        self.synchronized += 1

    def get_elapsed_time(self, start, end) -> float:
        return (end.at - start.at) * 1e3  # milliseconds, as CUDA reports them

    def deviceGetAttribute(self, attribute: int, device: int) -> int:
        assert attribute == self.cudaDevAttrL2CacheSize
        return 50 << 20

    def empty(self, nbytes: int, dtype: str):
        fake = self

        class Memory:
            def memset_async(self, value: int, size: int) -> None:
                fake.calls.append(f"flush:{size}")

        return types.SimpleNamespace(data=Memory(), nbytes=nbytes)

    def RawModule(self, path: str):
        module = FakeModule(Path(path).read_bytes())
        self.modules.append(module)
        return module


class FakeModule:
    def __init__(self, cubin: bytes) -> None:
        self.cubin = cubin
        self.function = FakeFunction()
        self.asked: list[str] = []

    def get_function(self, name: str) -> FakeFunction:
        self.asked.append(name)
        return self.function


class FakeFunction:
    num_regs = 32
    shared_size_bytes = 1024
    local_size_bytes = 0
    const_size_bytes = 0
    max_threads_per_block = 1024

    def __init__(self) -> None:
        self.max_dynamic_shared_size_bytes = 0
        self.launches: list[tuple] = []

    def __call__(self, grid, block, args, shared_mem=0) -> None:
        self.launches.append((grid, block, args, shared_mem))


@pytest.fixture
def fake_cupy(monkeypatch) -> FakeCuda:
    fake = FakeCuda()
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setitem(sys.modules, "cupy.cuda", fake)
    return fake


def test_paired_events_alternate_and_time_each_call(fake_cupy):
    def run(name: str, seconds: float):
        def call() -> None:
            fake_cupy.calls.append(name)
            fake_cupy.now += seconds

        return call

    times_a, times_b = time_paired_events(
        run("a", 0.001), run("b", 0.003), warmup=1, rounds=2, reps=2, flush_l2=False
    )
    assert fake_cupy.calls == ["a", "b", "a", "b", "a", "b", "b", "a", "b", "a"]
    assert times_a == [[pytest.approx(0.001)] * 2] * 2
    assert times_b == [[pytest.approx(0.003)] * 2] * 2
    assert fake_cupy.synchronized >= 3  # after the warm-up and after every round


def test_l2_flush_precedes_every_timed_call(fake_cupy):
    def run(name: str):
        return lambda: fake_cupy.calls.append(name)

    time_paired_events(run("a"), run("b"), warmup=0, rounds=1, reps=2, flush_l2=True)
    flush = f"flush:{100 << 20}"  # twice the 50 MiB L2
    assert fake_cupy.calls == [flush, "a", flush, "b", flush, "a", flush, "b"]


def test_loaded_kernel_loads_the_cubin_file_and_opts_into_shared_memory(fake_cupy):
    kernel = LoadedKernel(b"\x7fELF-cubin", "_Z4tileILi8ELi16EEvPf")
    [module] = fake_cupy.modules
    assert module.cubin == b"\x7fELF-cubin" and module.asked == ["_Z4tileILi8ELi16EEvPf"]
    assert kernel.attributes()["registers"] == 32
    kernel.launch([2, 1], [128], [1, 2], shared_mem=1024)
    assert module.function.max_dynamic_shared_size_bytes == 0
    kernel.launch((2,), (128,), (1, 2), shared_mem=100 * 1024)
    assert module.function.max_dynamic_shared_size_bytes == 100 * 1024
    assert module.function.launches == [
        ((2, 1), (128,), (1, 2), 1024),
        ((2,), (128,), (1, 2), 100 * 1024),
    ]
