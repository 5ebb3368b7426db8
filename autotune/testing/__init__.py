"""Conformance suites for autotune's extension points.

Each module holds a test base class that an implementation's test module subclasses
(as optuna's ``optuna/testing/pytest_samplers.py`` does):

* :mod:`autotune.testing.strategies`: ``StrategyConformance`` for search strategies.
* :mod:`autotune.testing.databases`: ``DatabaseConformance`` for tuning databases.
* :mod:`autotune.testing.builders`: ``BuilderConformance`` for builders.
* :mod:`autotune.testing.runners`: ``RunnerConformance`` for runners.
* :mod:`autotune.testing.cost_models`: ``CostModelConformance`` for cost models.

The suites import pytest, so this package does not import them eagerly.
"""
