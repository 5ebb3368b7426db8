"""Conformance suite for cost models (:class:`autotune.cost_model.BaseCostModel`).

A model's test module subclasses :class:`CostModelConformance`::

    class TestMyModel(CostModelConformance):
        def make_model(self):
            return MyModel(random_state=0)
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from autotune.cost_model import BaseCostModel


def _data(seed: int = 0, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Speedups that depend on two of five features, with a little noise."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 5))
    y = np.exp(1.5 * X[:, 0] - 1.0 * X[:, 3] + 0.05 * rng.standard_normal(n))
    return X, y


class CostModelConformance:
    """Checks every cost model must pass."""

    def make_model(self) -> BaseCostModel:
        raise NotImplementedError

    def test_fit_returns_self_and_learned_state_ends_in_underscore(self) -> None:
        model = self.make_model()
        before = set(vars(model))
        X, y = _data()
        assert model.fit(X, y) is model
        learned = set(vars(model)) - before
        assert learned and all(name.endswith("_") for name in learned)

    def test_clone_rebuilds_an_unfitted_model_from_its_parameters(self) -> None:
        model = self.make_model().fit(*_data())
        copy = clone(model)
        assert copy.get_params() == model.get_params()
        with pytest.raises(ValueError):
            copy.predict(_data()[0])

    def test_predictions_are_positive_one_per_row_and_deterministic(self) -> None:
        X, y = _data()
        first = self.make_model().fit(X, y).predict(X[:7])
        second = self.make_model().fit(X, y).predict(X[:7])
        assert first.shape == (7,) and np.all(first > 0)
        np.testing.assert_allclose(first, second)

    def test_ranks_unseen_configs_better_than_chance(self) -> None:
        X, y = _data(seed=0)
        X_new, y_new = _data(seed=1, n=60)
        predicted = self.make_model().fit(X, y).predict(X_new)
        correlation = np.corrcoef(np.log(predicted), np.log(y_new))[0, 1]
        assert correlation > 0.5

    def test_bad_shapes_are_value_errors(self) -> None:
        X, y = _data()
        with pytest.raises(ValueError):
            self.make_model().fit(X, y[:-1])
        model = self.make_model().fit(X, y)
        with pytest.raises(ValueError):
            model.predict(X[:, :3])
