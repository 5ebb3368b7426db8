"""Framing between the tuner and its worker processes: length-prefixed pickles."""

from __future__ import annotations

import os
import pickle
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

_HEADER = struct.Struct("!Q")


@dataclass(frozen=True, slots=True)
class KernelRef:
    """How a worker finds a kernel: its file (and spec), name, problem size and seed,
    and the baseline it is tuned against (``as-written``: the author's ``njit``
    options are the base of the baseline and of every candidate; ``numba-default``:
    plain ``numba.njit``).

    Input set ``seed`` is timed and verified; input set ``seed + 1`` is only ever
    verified, never timed.
    """

    source: str
    spec: str | None
    name: str
    size: str | None = None
    seed: int = 0
    builder: str = "numba"
    baseline: str = "as-written"


def send(stream: BinaryIO, message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def recv(stream: BinaryIO) -> Any:
    """The next message, or raise EOFError when the other side has gone."""
    header = _read_exact(stream, _HEADER.size)
    (length,) = _HEADER.unpack(header)
    return pickle.loads(_read_exact(stream, length))


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError("stream closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_available(fd: int, buffer: bytearray) -> bool:
    """Append what ``fd`` has to ``buffer``; ``False`` at end of file."""
    chunk = os.read(fd, 1 << 16)
    if not chunk:
        return False
    buffer.extend(chunk)
    return True


def pop_message(buffer: bytearray) -> tuple[bool, Any]:
    """Take one complete message off the front of ``buffer`` if there is one."""
    if len(buffer) < _HEADER.size:
        return False, None
    (length,) = _HEADER.unpack(bytes(buffer[: _HEADER.size]))
    end = _HEADER.size + length
    if len(buffer) < end:
        return False, None
    message = pickle.loads(bytes(buffer[_HEADER.size : end]))
    del buffer[:end]
    return True, message
