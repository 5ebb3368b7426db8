"""Ctrl-C that is never lost.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be when SIGINT
arrives. Inside a garbage-collection callback or a ``__del__`` (SQLAlchemy and Alembic
leave plenty of those), the exception is printed as "ignored" and the program runs on.
The handler installed by :func:`keeping_interrupts` therefore also remembers the
interrupt, and :func:`raise_if_interrupted`, called at every trial boundary, raises it
again if it was swallowed.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_pending = threading.Event()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _pending.set()
    raise KeyboardInterrupt


@contextmanager
def keeping_interrupts() -> Iterator[None]:
    """Within the block, SIGINT raises ``KeyboardInterrupt`` and is remembered until
    the block ends. Only Python's default handler is replaced (and restored after):
    an embedding program's own handler, or SIGINT ignored, is left as it is."""
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    _pending.clear()
    signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _pending.clear()


def raise_if_interrupted() -> None:
    """Raise ``KeyboardInterrupt`` when a SIGINT arrived that nothing has acted on."""
    if _pending.is_set():
        _pending.clear()
        raise KeyboardInterrupt
