"""The forest cost model passes the cost-model conformance suite."""

from autotune.cost_model import ForestCostModel
from autotune.testing.cost_models import CostModelConformance


class TestForestCostModel(CostModelConformance):
    def make_model(self) -> ForestCostModel:
        return ForestCostModel(n_estimators=30, random_state=0)
