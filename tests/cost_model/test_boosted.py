"""The boosted cost model: conformance, uncertainty, refits and guarded persistence."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from autotune.cost_model import BoostedCostModel, IncompatibleModelError, _boosted, schema_hash
from autotune.testing.cost_models import CostModelConformance

SMALL = {"max_iter": 30, "n_estimators": 3}


class TestBoostedCostModel(CostModelConformance):
    def make_model(self) -> BoostedCostModel:
        return BoostedCostModel(**SMALL, min_samples_leaf=5, random_state=0)


def data(seed: int, n: int = 200, d: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    return X, np.exp(X[:, 0] - 0.5 * X[:, 1] + 0.05 * rng.standard_normal(n))


@pytest.fixture(scope="module")
def fitted() -> BoostedCostModel:
    return BoostedCostModel(**SMALL).fit(*data(0))


def test_shapes_and_mean_matches_predict(fitted):
    X, _ = data(1, n=9)
    mean, std = fitted.predict_with_uncertainty(X)
    assert mean.shape == std.shape == (9,) and np.all(std > 0)
    np.testing.assert_allclose(np.exp(mean), fitted.predict(X))


def test_clone_and_params_round_trip(fitted):
    params = fitted.get_params()
    assert params["n_estimators"] == 3 and params["n_threads"] == 1
    copy = clone(fitted)
    assert copy.get_params() == params and not hasattr(copy, "members_")
    assert BoostedCostModel().set_params(**params).get_params() == params


def test_seeded_fits_are_deterministic_and_seeds_matter(global_random_seed):
    X, y = data(global_random_seed)
    first = BoostedCostModel(**SMALL, random_state=global_random_seed).fit(X, y)
    again = BoostedCostModel(**SMALL, random_state=global_random_seed).fit(X, y)
    other = BoostedCostModel(**SMALL, random_state=global_random_seed + 1).fit(X, y)
    for a, b in zip(
        first.predict_with_uncertainty(X), again.predict_with_uncertainty(X), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.predict(X), other.predict(X))


def test_uncertainty_is_wider_far_from_the_data(global_random_seed):
    rng = np.random.default_rng(global_random_seed)
    x = rng.uniform(0, 1, 300)
    y = np.exp(np.sin(6 * x) + 0.1 * rng.standard_normal(300))
    model = BoostedCostModel(**SMALL, random_state=global_random_seed).fit(x[:, None], y)
    _, std = model.predict_with_uncertainty(np.array([[0.5], [2.0], [4.0]]))
    assert std[0] < 0.3 < std[1] < std[2]


def test_refit_with_keeps_old_rows_and_weights_new_ones(fitted):
    X_new = np.full((20, 4), 0.5)
    y_new = np.full(20, 8.0)  # far above what the old rows say about this point
    before = fitted.predict(X_new[:1])[0]
    light = clone(fitted).fit(fitted.X_, fitted.y_).refit_with(X_new, y_new, weight=1.0)
    heavy = clone(fitted).fit(fitted.X_, fitted.y_).refit_with(X_new, y_new, weight=20.0)
    assert len(heavy.y_) == 220 and np.all(heavy.sample_weight_[200:] == 20.0)
    assert before < light.predict(X_new[:1])[0] < heavy.predict(X_new[:1])[0]
    with pytest.raises(ValueError):
        clone(fitted).refit_with(X_new, y_new)
    with pytest.raises(ValueError):
        fitted.refit_with(X_new[:, :3], y_new)


def test_bad_inputs_are_value_errors():
    X, y = data(0, n=30)
    with pytest.raises(ValueError, match="positive"):
        BoostedCostModel(**SMALL).fit(X, -y)
    with pytest.raises(ValueError, match="sample_weight"):
        BoostedCostModel(**SMALL).fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="n_estimators"):
        BoostedCostModel(n_estimators=0).fit(X, y)


def test_persistence_round_trip(fitted):
    X, _ = data(2, n=5)
    loaded = BoostedCostModel.from_bytes(fitted.to_bytes())
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    header, _ = _boosted.read_header(fitted.to_bytes())
    assert header["schema"] == schema_hash() and header["format"] == _boosted.FORMAT_VERSION


def test_another_feature_schema_is_refused(fitted):
    program_schema = schema_hash(["ir.load", "ir.store"])
    data_ = fitted.to_bytes(schema=program_schema)
    assert BoostedCostModel.from_bytes(data_, schema=program_schema).n_features_in_ == 4
    with pytest.raises(IncompatibleModelError, match="schema"):
        BoostedCostModel.from_bytes(data_)


def test_another_toolchain_is_refused(fitted, monkeypatch):
    data_ = fitted.to_bytes()
    newer = {**_boosted.toolchain(), "numba": "99.0"}
    monkeypatch.setattr(_boosted, "toolchain", lambda: newer)
    with pytest.raises(IncompatibleModelError, match="toolchain"):
        BoostedCostModel.from_bytes(data_)


def test_damaged_bytes_are_refused_before_unpickling(fitted):
    with pytest.raises(IncompatibleModelError):
        BoostedCostModel.from_bytes(b"not a model")
    data_ = fitted.to_bytes()
    with pytest.raises(IncompatibleModelError, match="header"):
        BoostedCostModel.from_bytes(data_[:30])
    assert issubclass(IncompatibleModelError, ValueError)
