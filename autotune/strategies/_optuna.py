"""Bayesian search through Optuna's samplers (TPE by default), driven by ask/tell.

The search space maps onto Optuna's define-by-run parameters: a choice is a
categorical, an integer an int, a power of two a categorical of its values, a subset
one boolean per item, a pass sequence a length plus one categorical per position
(conditional on the length), and a permutation a categorical over all orderings (or
random keys when there are too many). Conditions become define-by-run branches.

Duplicates are never returned: a proposal that repeats a known config is closed as
failed (its outcome is in the study already) and Optuna is asked again; a proposal
that breaks a constraint
is told a failure ("rejected for free"). After many such proposals in a row, the
strategy falls back to random sampling of unseen configs, so it never stalls.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState

from autotune.candidate import Candidate, canonical_json
from autotune.context import TuneContext
from autotune.db import open_optuna_storage
from autotune.records import MeasureResult, Status
from autotune.space import (
    BaseParam,
    Choice,
    Config,
    Int,
    Permutation,
    Pow2,
    SearchSpace,
    Seq,
    Subset,
)
from autotune.strategies._base import BaseStrategy

#: Objective given to configs that failed, were wrong or broke a constraint: far below
#: any real speedup, so the sampler learns to avoid their region.
FAILURE_VALUE = math.log(1e-3)
#: The objective's name in a stored study, which optuna-dashboard shows on its axes.
OBJECTIVE_NAME = "log speedup over Numba's default build"
#: Permutations with more orderings than this use random keys instead of a categorical.
MAX_CATEGORICAL_PERMUTATIONS = 720
#: Repeated or invalid proposals in a row before falling back to random sampling
#: (TPE keeps proposing near its optimum; in a nearly exhausted space that is a repeat).
MAX_REJECTED_PROPOSALS = 10


def _scalar(values: Sequence[Any]) -> bool:
    return all(v is None or isinstance(v, bool | int | float | str) for v in values)


def _distributions(name: str, param: BaseParam) -> dict[str, BaseDistribution]:
    """Optuna parameters that encode ``param`` (sequence positions excluded)."""
    if isinstance(param, Int):
        return {name: IntDistribution(param.low, param.high, step=param.step)}
    if isinstance(param, Pow2):
        return {name: CategoricalDistribution(list(param.values()))}
    if isinstance(param, Choice):
        choices = list(param.choices) if _scalar(param.choices) else list(range(param.size()))
        return {name: CategoricalDistribution(choices)}
    if isinstance(param, Subset):
        return {f"{name}:{item}": CategoricalDistribution([False, True]) for item in param.items}
    if isinstance(param, Seq):
        return {f"{name}.len": IntDistribution(param.min_len, param.max_len)}
    if isinstance(param, Permutation):
        if param.size() <= MAX_CATEGORICAL_PERMUTATIONS:
            return {name: CategoricalDistribution([",".join(p) for p in param.values()])}
        return {f"{name}:{item}": FloatDistribution(0.0, 1.0) for item in param.items}
    raise TypeError(f"no Optuna encoding for {type(param).__name__}")


class _Codec:
    """Translates between configs and Optuna parameters for one search space."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space

    def decode(self, trial: optuna.Trial) -> Config:
        """Suggest every active parameter of ``trial`` and return the config."""
        config: Config = {}
        for entry in self.space._entries:
            if entry.condition is not None and not entry.condition.holds(config):
                continue
            raw = {
                k: _suggest(trial, k, d) for k, d in _distributions(entry.name, entry.param).items()
            }
            if isinstance(entry.param, Seq):
                n = raw[f"{entry.name}.len"]
                choice = CategoricalDistribution(list(entry.param.choices))
                raw.update(
                    {
                        f"{entry.name}.{i}": _suggest(trial, f"{entry.name}.{i}", choice)
                        for i in range(n)
                    }
                )
            config[entry.name] = _value(entry.name, entry.param, raw)
        return config

    def encode(self, config: Config) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
        """Optuna params and distributions of a config (for results it never proposed)."""
        params: dict[str, Any] = {}
        dists: dict[str, BaseDistribution] = {}
        for entry in self.space._entries:
            if entry.name not in config:
                continue
            value, param = config[entry.name], entry.param
            for key, dist in _distributions(entry.name, param).items():
                dists[key] = dist
                params[key] = _raw(entry.name, param, value, key)
            if isinstance(param, Seq):
                for i, item in enumerate(value):
                    dists[f"{entry.name}.{i}"] = CategoricalDistribution(list(param.choices))
                    params[f"{entry.name}.{i}"] = item
        return params, dists


def _suggest(trial: optuna.Trial, name: str, dist: BaseDistribution) -> Any:
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step)
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high)
    assert isinstance(dist, CategoricalDistribution)
    return trial.suggest_categorical(name, dist.choices)


def _value(name: str, param: BaseParam, raw: dict[str, Any]) -> Any:
    """The config value of ``param`` from its suggested Optuna parameters."""
    if isinstance(param, Int | Pow2):
        return int(raw[name])
    if isinstance(param, Choice):
        return raw[name] if _scalar(param.choices) else param.choices[raw[name]]
    if isinstance(param, Subset):
        return [item for item in param.items if raw[f"{name}:{item}"]]
    if isinstance(param, Seq):
        return [raw[f"{name}.{i}"] for i in range(raw[f"{name}.len"])]
    assert isinstance(param, Permutation)
    if name in raw:
        return raw[name].split(",")
    return _ordering_by_keys(param, {item: raw[f"{name}:{item}"] for item in param.items})


def _ordering_by_keys(param: Permutation, keys: dict[str, float]) -> list[str]:
    """Items by ascending random key, except that an item waits until its required
    predecessors are placed: every decoded ordering respects ``param.precedes``."""
    order: list[str] = []
    left = sorted(param.items, key=lambda item: keys[item])
    while left:
        pick = next(it for it in left if all(b != it or a in order for a, b in param.precedes))
        order.append(pick)
        left.remove(pick)
    return order


def _raw(name: str, param: BaseParam, value: Any, key: str) -> Any:
    """The Optuna parameter ``key`` that encodes ``value`` of ``param``."""
    if isinstance(param, Choice) and not _scalar(param.choices):
        return next(i for i, c in enumerate(param.choices) if c == value)
    if isinstance(param, Subset):
        return key.split(":", 1)[1] in value
    if isinstance(param, Seq):
        return len(value)
    if isinstance(param, Permutation):
        if key == name:
            return ",".join(value)
        item = key.split(":", 1)[1]
        return value.index(item) / max(1, len(value) - 1)
    return value


def objective(result: MeasureResult) -> float:
    """What the sampler maximizes: log speedup, or :data:`FAILURE_VALUE`."""
    if result.status is Status.OK and result.speedup and result.speedup > 0:
        return math.log(result.speedup)
    return FAILURE_VALUE


class OptunaStrategy(BaseStrategy):
    """Search with an Optuna sampler; TPE (multivariate, grouped) unless one is given.

    ``storage`` is an SQLAlchemy URL where the study is kept (the tuning database, so
    ``optuna-dashboard`` shows it); ``None`` keeps it in memory.
    """

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        sampler: optuna.samplers.BaseSampler | None = None,
        storage: str | None = None,
        study_name: str | None = None,
        *,
        context: TuneContext | None = None,
    ) -> None:
        super().__init__(space, seed, context)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._codec = _Codec(space)
        self._rng = np.random.default_rng(seed)
        if sampler is None:
            with warnings.catch_warnings():
                # multivariate/group TPE is marked experimental; it is what handles
                # conditional spaces well.
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
        self.study = optuna.create_study(
            direction="maximize",
            sampler=sampler,
            storage=None if storage is None else open_optuna_storage(storage),
            study_name=study_name,
            load_if_exists=study_name is not None,
        )
        with warnings.catch_warnings():
            # Metric names are marked experimental (Optuna 3.2+); they only label plots.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            self.study.set_metric_names([OBJECTIVE_NAME])
        self._pending: dict[str, optuna.Trial] = {}
        self._warm: list[Candidate] | None = None
        # A study resumed from storage already holds what earlier runs told it.
        self._in_study = {
            canonical_json(t.params)
            for t in self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        }

    def ask(self, n: int = 1) -> list[Candidate]:
        return self._fill(n, self._propose)

    def _warm_start(self) -> list[Candidate]:
        """The cross-program model's top picks for this program, proposed before the
        sampler's own (none without a model). Computed once."""
        if self._warm is None:
            self._warm = [Candidate.from_config(c) for c in warm_start_picks(self.context)]
        return self._warm

    def _propose(self) -> Candidate | None:
        warm = self._warm_start()
        while warm:
            candidate = warm.pop(0)
            if not self.is_seen(candidate) and self.space.violation(candidate.config) is None:
                self.mark_seen(candidate)
                return candidate
        for _ in range(MAX_REJECTED_PROPOSALS):
            trial = self.study.ask()
            config = self._codec.decode(trial)
            candidate = Candidate.from_config(config)
            if self.is_seen(candidate):
                # Its outcome is already in the study once; a second copy would bias it.
                self.study.tell(trial, state=TrialState.FAIL)
                continue
            if self.space.violation(config) is not None:
                self.study.tell(trial, FAILURE_VALUE)
                continue
            self.mark_seen(candidate)
            self._pending[candidate.key] = trial
            return candidate
        return self._random_unseen()

    def _random_unseen(self) -> Candidate | None:
        from autotune.strategies._random import RandomStrategy

        fallback = RandomStrategy(self.space, int(self._rng.integers(2**31)), context=self.context)
        fallback.share_seen(self._seen)  # so nothing repeats
        found = fallback.ask(1)
        return found[0] if found else None

    def tell(self, candidates: Sequence[Candidate], results: Sequence[MeasureResult]) -> None:
        for candidate, result in zip(candidates, results, strict=True):
            value = objective(result)
            trial = self._pending.pop(candidate.key, None)
            if trial is not None:
                self.study.tell(trial, value)
            else:
                params, dists = self._codec.encode(candidate.config)
                if canonical_json(params) not in self._in_study:
                    self.study.add_trial(
                        optuna.trial.create_trial(params=params, distributions=dists, value=value)
                    )
            self.mark_seen(candidate)


#: Model picks a warm-started sampler proposes before its own.
WARM_START_PICKS = 5
#: Random configs scored with the coreset configs when choosing the warm-start picks.
WARM_START_SAMPLES = 500


def warm_start_picks(context: TuneContext, n: int = WARM_START_PICKS) -> list[dict[str, Any]]:
    """The ``n`` configs of the context's space the cross-program model rates best
    (among other programs' coreset configs, the landmarks and random samples), or none
    without a model."""
    scorer = context.scorer
    if scorer is None:
        return []
    from autotune.cost_model._coreset import instantiate_all, model_picks

    space = context.space
    recipes = list(context.coreset)
    candidates = [c for _, c in instantiate_all(recipes, space, 0)] + space.landmarks()
    return model_picks(scorer, space, candidates, n, samples=WARM_START_SAMPLES)


def gp_available() -> bool:
    """Whether Optuna's GP sampler can run: it needs PyTorch (the ``gp`` extra)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


class GPStrategy(OptunaStrategy):
    """Bayesian search with Optuna's Gaussian-process sampler.

    Needs PyTorch; install the CPU build first (``pip install torch==2.13.0``), then
    ``pip install 'autotune[gp]'``. Parameters that are active only in some configs
    (pass-sequence positions) are outside the GP's fixed space and are drawn by Optuna's
    independent sampler.
    """

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        storage: str | None = None,
        study_name: str | None = None,
        *,
        context: TuneContext | None = None,
    ) -> None:
        if not gp_available():
            raise RuntimeError(
                "strategy 'gp' needs PyTorch: pip install torch==2.13.0 (CPU build), "
                "then pip install 'autotune[gp]'"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.GPSampler(seed=seed, deterministic_objective=False)
        super().__init__(
            space,
            seed,
            sampler=sampler,
            storage=storage,
            study_name=study_name,
            context=context,
        )
