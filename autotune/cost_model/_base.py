"""The cost-model extension point, following scikit-learn's estimator conventions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np


class BaseCostModel(ABC):
    """Predicts the speedup of configs of a workload from features.

    Contract (scikit-learn conventions):
        * ``__init__`` only stores hyperparameters, so ``sklearn.base.clone`` works.
        * ``fit(X, y)`` learns from feature rows ``X`` and measured speedups ``y`` and
          returns ``self``; learned state lives in attributes ending in ``_``.
        * ``predict(X)`` returns one predicted speedup per row, higher is better.
    """

    @abstractmethod
    def fit(self, X: np.ndarray, y: np.ndarray) -> BaseCostModel: ...

    @abstractmethod
    def predict(self, X: np.ndarray) -> np.ndarray: ...

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {}

    def set_params(self, **params: Any) -> BaseCostModel:
        for key, value in params.items():
            setattr(self, key, value)
        return self
