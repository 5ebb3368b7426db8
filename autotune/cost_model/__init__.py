"""Cost models: IR and config features, the estimator interface, a forest model."""

from autotune.cost_model._base import BaseCostModel
from autotune.cost_model._features import config_features, ir_features, vectorize
from autotune.cost_model._forest import ForestCostModel

__all__ = ["BaseCostModel", "ForestCostModel", "config_features", "ir_features", "vectorize"]
