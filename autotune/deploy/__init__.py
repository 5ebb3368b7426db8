"""Deploying tuned configs: the code a user calls.

:func:`compile_config` builds one config of a kernel exactly as the tuner built it,
compiled lazily per signature (:class:`TunedDispatcher`). :func:`jit` is the
``@autotune.jit`` decorator: each signature is looked up in the config cache on its
first call and built with its tuned config, or with Numba's default build on a miss
(:class:`TunedFunction`).
"""

from autotune.deploy._dispatcher import TunedDispatcher, compile_config
from autotune.deploy._jit import BuildInfo, TunedFunction, jit

__all__ = ["BuildInfo", "TunedDispatcher", "TunedFunction", "compile_config", "jit"]
