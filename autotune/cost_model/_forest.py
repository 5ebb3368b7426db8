"""A random-forest cost model on IR and config features."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from autotune.cost_model._base import BaseCostModel


class ForestCostModel(BaseCostModel):
    """Predicts speedups with a random forest fitted on ``log(speedup)``.

    Log space makes a 2x speedup and a 2x slowdown equally large errors, which is how
    a tuner ranks candidates.
    """

    def __init__(
        self, n_estimators: int = 100, max_depth: int | None = None, random_state: int = 0
    ):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> ForestCostModel:
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        if X.ndim != 2 or len(X) != len(y) or len(y) == 0:
            raise ValueError(
                f"need X of shape (n, d) and y of shape (n,), got {X.shape}, {y.shape}"
            )
        if np.any(y <= 0):
            raise ValueError("speedups must be positive")
        self.forest_ = RandomForestRegressor(
            n_estimators=self.n_estimators, max_depth=self.max_depth, random_state=self.random_state
        ).fit(X, np.log(y))
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if not hasattr(self, "forest_"):
            raise ValueError("ForestCostModel is not fitted; call fit first")
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} features, got shape {X.shape}")
        return np.exp(self.forest_.predict(X))
