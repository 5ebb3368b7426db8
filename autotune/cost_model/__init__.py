"""Cost models: IR and config features, and the estimator interface models follow."""

from autotune.cost_model._base import BaseCostModel
from autotune.cost_model._features import config_features, ir_features, vectorize

__all__ = ["BaseCostModel", "config_features", "ir_features", "vectorize"]
