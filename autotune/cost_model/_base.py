"""The cost-model extension point, following scikit-learn's estimator conventions."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from sklearn.base import BaseEstimator


class BaseCostModel(BaseEstimator, ABC):
    """Predicts the speedup of configs of a workload from features.

    Contract (scikit-learn conventions):
        * ``__init__`` only stores its keyword arguments under their own names, so
          ``get_params`` and ``sklearn.base.clone`` work.
        * ``fit(X, y)`` learns from feature rows ``X`` (shape ``(n, d)``) and measured
          speedups ``y`` (positive, shape ``(n,)``) and returns ``self``; learned state
          lives in attributes ending in ``_``.
        * ``predict(X)`` returns one positive predicted speedup per row (higher is
          better); calling it before ``fit`` raises ``ValueError``.
        * Given the same parameters and data, ``fit`` then ``predict`` is deterministic.
    """

    @abstractmethod
    def fit(self, X: np.ndarray, y: np.ndarray) -> BaseCostModel: ...

    @abstractmethod
    def predict(self, X: np.ndarray) -> np.ndarray: ...
