"""The config cache: tuned configs found again without compiling anything.

A finished tuning run stores, per kernel, the config it chose under a cheap key
(:func:`kernel_key`: source, bytecode, callees, bound globals, argument types, size
bucket, toolchain). Builds and imports look the key up in the database or in a bundle
file (:func:`open_source`, :func:`lookup`) and get the config, how well the machine it
was tuned on matches this one (:class:`MatchLevel`), and whether another size's entry
stood in.
"""

from autotune.cache._base import BaseConfigSource
from autotune.cache._bundle import BundleError, BundleSource, read_bundle, write_bundle
from autotune.cache._entry import CacheEntry, CacheHit, MatchLevel, isa_level, match_level
from autotune.cache._key import (
    KernelKey,
    argument_types,
    kernel_key,
    program_fingerprint,
    size_bucket,
)
from autotune.cache._lookup import (
    baseline_mismatch,
    entry_for_result,
    lookup,
    make_entry,
    remember,
    tuned_options,
)
from autotune.cache._sources import DatabaseSource, open_source

__all__ = [
    "BaseConfigSource",
    "BundleError",
    "BundleSource",
    "CacheEntry",
    "CacheHit",
    "DatabaseSource",
    "KernelKey",
    "MatchLevel",
    "argument_types",
    "baseline_mismatch",
    "entry_for_result",
    "isa_level",
    "kernel_key",
    "lookup",
    "make_entry",
    "match_level",
    "open_source",
    "program_fingerprint",
    "read_bundle",
    "remember",
    "size_bucket",
    "tuned_options",
    "write_bundle",
]
