"""Model-guided search: a Bayesian linear model of log speedup chooses what to measure.

Every config is encoded by :func:`autotune.cost_model.run_features`: one-hot
indicators of its scalar values (plus ``log2`` of positive numbers, so powers of two
share strength), counts of the items of its lists; to these the model adds the
pairwise products of indicators of different parameters, which lets the model
see that two settings help only together. scikit-learn's ``BayesianRidge`` fits the
log speedups measured so far; its posterior gives every unmeasured candidate a mean
and a standard deviation, and the candidate with the highest expected improvement
over the best measurement is proposed next.

Candidates come from the whole valid space, shuffled by the seed, when it has at most
:data:`POOL_LIMIT` configs, otherwise from a fresh pool of random configs and
neighbours of the best ones at every ask. The first proposal is the space's default
config (what the user gets without tuning); random configs follow until the model has
:data:`MIN_OBSERVATIONS` successful measurements. Log speedups are truncated
:data:`TRUNCATE` below the best, and a failed, wrong or invalid config counts as that
floor, so the model learns to avoid bad regions without their depth dominating the fit.
Expected improvement counts gains from :data:`MIN_GAIN` up.

With a cross-program cost model for the target (``context.scorer``), the search
screens: the model's prediction for each candidate is the prior, and then one more
feature of the Bayesian ridge, which learns from this run's measurements how far to
trust it on this program.
Until the run has its own measurements the model's top picks come first, and the pool
also holds the configs that did best on other programs (the coreset of
:mod:`autotune.cost_model._coreset`, instantiated on this space). Scoring a candidate
costs one model row; only the few best are ever measured.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.stats import norm
from threadpoolctl import ThreadpoolController

from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.cost_model._coreset import instantiate_all
from autotune.cost_model._encoding import param_of_column, run_features
from autotune.records import MeasureResult, Status
from autotune.space import Config, SearchSpace
from autotune.strategies._base import BaseStrategy
from autotune.strategies._neighbors import mutate
from autotune.strategies._random import RandomStrategy

#: Spaces with at most this many configs are scored whole; larger ones are sampled.
POOL_LIMIT = 5000
#: Random configs and neighbours of the best configs scored per ask in a large space.
RANDOM_POOL = 500
NEIGHBOUR_POOL = 200
#: Candidates scored per ask at most: a random subset of the unmeasured ones beyond it.
MAX_SCORED = 1000
#: Best configs whose neighbours join a sampled pool.
ELITE = 5
#: Successful measurements before the model proposes (the default config counts).
MIN_OBSERVATIONS = 2
#: Log speedups further than this below the best are fitted as this far below, and so
#: are failures: how bad a bad config is does not help find the best one, and a few
#: huge slowdowns (an unoptimized pipeline runs 20x slower) would otherwise dominate
#: a linear fit and blame every setting they share.
TRUNCATE = 0.5
#: Improvement in log speedup that expected improvement counts from: gains smaller than
#: about 5% are within the spread of one config measured in different processes, so
#: they are not worth a measurement while larger ones may be waiting elsewhere.
MIN_GAIN = 0.05
#: Above this many features the pairwise products are left out (the fit and the
#: predictive variance grow with the square of the feature count).
MAX_FEATURES = 400
#: Coreset recipes added to the pool when a cross-program model screens it.
PRIOR_CORESET = 30
#: The cross-program prediction's column in the run's ridge is scaled by this: a
#: larger column costs less prior penalty per unit of effect, so the ridge trusts the
#: model until this run's measurements say otherwise.
PRIOR_SCALE = 4.0


@functools.cache
def _blas() -> ThreadpoolController:
    """The BLAS libraries loaded (scanning for them costs milliseconds: done once, after
    scikit-learn is imported)."""
    return ThreadpoolController()


class _Encoder:
    """Turns configs into rows of a fixed design matrix, with pairwise products."""

    def __init__(self, configs: Sequence[Config]) -> None:
        columns = sorted({c for config in configs for c in run_features(config)})
        self.index = {c: i for i, c in enumerate(columns)}
        indicators = [i for i, c in enumerate(columns) if "=" in c]
        param = [param_of_column(c) for c in columns]
        self.pairs = [
            (a, b) for a, b in itertools.combinations(indicators, 2) if param[a] != param[b]
        ]
        if len(columns) + len(self.pairs) > MAX_FEATURES:
            self.pairs = []
        # A parameter with many values gets smaller indicators, so a smaller prior on
        # each value's effect: otherwise every untried value of a 10-way choice looks
        # uncertain enough to be worth measuring, and the search spends its budget there.
        levels = Counter(param[i] for i in indicators)
        self.scale = np.ones(len(columns))
        for i in indicators:
            self.scale[i] = 2 / levels[param[i]]

    def __call__(self, configs: Sequence[Config]) -> np.ndarray:
        main = np.zeros((len(configs), len(self.index)))
        for row, config in enumerate(configs):
            for column, value in run_features(config).items():
                j = self.index.get(column)
                if j is not None:  # a value no pool config had: nothing to learn from it
                    main[row, j] = value
        main = main * self.scale
        if not self.pairs:
            return main
        a, b = np.array(self.pairs).T
        return np.hstack([main, main[:, a] * main[:, b]])


class ModelStrategy(BaseStrategy):
    """Proposes the unmeasured config with the highest expected improvement."""

    def __init__(
        self, space: SearchSpace, seed: int = 0, *, context: TuneContext | None = None
    ) -> None:
        super().__init__(space, seed, context)
        self._rng = np.random.default_rng(seed)
        self._random = RandomStrategy(space, seed + 1, context=self.context)
        self._random.share_seen(self._seen)
        self._configs: list[Config] = []
        self._values: list[float | None] = []  # log speedup; None for a failure
        self._started = False
        self._pool: tuple[list[Candidate], np.ndarray, _Encoder] | None = None
        self._large = space.size() > POOL_LIMIT
        #: This ask's scored candidates, best expected improvement last.
        self._ranking: list[Candidate] | None = None
        self._scorer = self.context.scorer
        self._prior: dict[str, tuple[float, float]] = {}  # config key -> (mean, std)
        self._transfer: list[Config] | None = None

    def share_seen(self, seen: set[str]) -> None:
        super().share_seen(seen)
        self._random.share_seen(seen)

    def ask(self, n: int = 1) -> list[Candidate]:
        # Nothing is told between the proposals of one ask, so the model is fitted and
        # the pool ranked once per ask, and a batch takes the ranking's next entries.
        self._ranking = None
        return self._fill(n, self._propose_unseen)

    def _propose_unseen(self) -> Candidate | None:
        candidate = self._propose()
        if candidate is not None:
            self.mark_seen(candidate)
        return candidate

    def tell(self, candidates: Sequence[Candidate], results: Sequence[MeasureResult]) -> None:
        super().tell(candidates, results)
        for candidate, result in zip(candidates, results, strict=True):
            speedup = result.speedup if result.status is Status.OK else None
            self._configs.append(candidate.config)
            self._values.append(math.log(speedup) if speedup else None)

    def _propose(self) -> Candidate | None:
        if not self._started:
            self._started = True
            default = self.space.default_config()
            candidate = Candidate.from_config(default)
            if not self.is_seen(candidate) and self.space.violation(default) is None:
                return candidate
        if sum(v is not None for v in self._values) < MIN_OBSERVATIONS and self._scorer is None:
            return self._random_unseen()
        if self._ranking is None:
            self._ranking = self._rank()
        while self._ranking:
            candidate = self._ranking.pop()
            if not self.is_seen(candidate):
                return candidate
        return self._random_unseen()

    def _rank(self) -> list[Candidate]:
        """The unseen candidates of the pool that were scored, best last (ties keep the
        pool's order, earliest last)."""
        pool, matrix, encode = self._candidates()
        unseen = [i for i, c in enumerate(pool) if not self.is_seen(c)]
        if not unseen:
            return []
        if len(unseen) > MAX_SCORED:  # the predictive variance costs features^2 each
            unseen = sorted(self._rng.choice(unseen, MAX_SCORED, replace=False).tolist())
        if self._scorer is not None:
            scores = self._screened(pool, unseen, matrix[unseen], encode)
        else:
            scores = self._expected_improvement(matrix[unseen], encode)
        order = np.argsort(-scores, kind="stable")[::-1]
        return [pool[unseen[int(i)]] for i in order]

    def _random_unseen(self) -> Candidate | None:
        found = self._random.ask(1)
        return found[0] if found else None

    def _candidates(self) -> tuple[list[Candidate], np.ndarray, _Encoder]:
        """Candidates to score, their design matrix and the encoder that made it."""
        if self._pool is not None:
            return self._pool
        if self._large:
            configs = self._transferred()
            configs += [self.space.sample(self._rng) for _ in range(RANDOM_POOL)]
            configs += self._neighbours_of_best()
            configs = [c for c in configs if self.space.violation(c) is None]
        else:
            valid = [c for c in self.space.enumerate() if self.space.violation(c) is None]
            configs = [valid[i] for i in self._rng.permutation(len(valid))]
        encode = _Encoder(configs)
        pool = ([Candidate.from_config(c) for c in configs], encode(configs), encode)
        if not self._large:  # the whole space never changes: encode it once
            self._pool = pool
        return pool

    def _transferred(self) -> list[Config]:
        """Coreset configs of other programs on this space (only with a model to screen
        them; computed once)."""
        if self._scorer is None:
            return []
        if self._transfer is None:
            recipes = list(self.context.coreset)[:PRIOR_CORESET]
            self._transfer = [c for _, c in instantiate_all(recipes, self.space, self.seed)]
        return list(self._transfer)

    def _prior_of(self, configs: Sequence[Config]) -> tuple[np.ndarray, np.ndarray]:
        """The cross-program model's mean and std of each config's log speedup
        (cached by config)."""
        assert self._scorer is not None
        keys = [Candidate.from_config(c).key for c in configs]
        missing = [i for i, k in enumerate(keys) if k not in self._prior]
        if missing:
            mean, std = self._scorer.score([configs[i] for i in missing])
            for j, i in enumerate(missing):
                self._prior[keys[i]] = (float(mean[j]), float(std[j]))
        pairs = np.array([self._prior[k] for k in keys]).reshape(len(keys), 2)
        return pairs[:, 0], pairs[:, 1]

    def _neighbours_of_best(self) -> list[Config]:
        measured = [i for i, v in enumerate(self._values) if v is not None]
        measured.sort(key=lambda i: -(self._values[i] or 0.0))
        elite = [self._configs[i] for i in measured[:ELITE]]
        return [
            mutate(self.space, elite[i % len(elite)], self._rng, 1 + i % 2)
            for i in range(NEIGHBOUR_POOL if elite else 0)
        ]

    def _expected_improvement(self, candidates: np.ndarray, encode: _Encoder) -> np.ndarray:
        from sklearn.linear_model import BayesianRidge

        successes = [v for v in self._values if v is not None]
        floor = max(successes) - TRUNCATE
        y = np.array([floor if v is None else max(v, floor) for v in self._values])
        model = BayesianRidge()
        # The matrices are small: BLAS threads gain nothing here, and where the cores are
        # busy (workers building and timing) they spin and make each fit 10x slower.
        with warnings.catch_warnings(), _blas().limit(limits=1, user_api="blas"):
            warnings.simplefilter("ignore")  # convergence notes on tiny samples
            model.fit(encode(self._configs), y)
            mean, std = model.predict(candidates, return_std=True)
        std = np.maximum(std, 1e-9)
        gain = mean - max(successes) - MIN_GAIN
        z = gain / std
        return np.asarray(gain * norm.cdf(z) + std * norm.pdf(z))

    def _screened(
        self, pool: list[Candidate], unseen: list[int], rows: np.ndarray, encode: _Encoder
    ) -> np.ndarray:
        """Expected improvement with the cross-program model's prediction as the prior:
        alone until this run has :data:`MIN_OBSERVATIONS` measurements, then as one
        more feature of this run's Bayesian ridge, which learns how far to trust it on
        this program (a model that misleads here gets little weight)."""
        prior_mean, prior_std = self._prior_of([pool[i].config for i in unseen])
        successes = [v for v in self._values if v is not None]
        best = max([0.0, *successes])  # the default config is the baseline: log 1 = 0
        if len(successes) < MIN_OBSERVATIONS:
            mean, std = prior_mean, prior_std
        else:
            mean, std = self._fit_with_prior(rows, prior_mean, encode)
        std = np.maximum(std, 1e-9)
        gain = mean - best - MIN_GAIN
        z = gain / std
        return np.asarray(gain * norm.cdf(z) + std * norm.pdf(z))

    def _fit_with_prior(
        self, rows: np.ndarray, prior_mean: np.ndarray, encode: _Encoder
    ) -> tuple[np.ndarray, np.ndarray]:
        """A Bayesian ridge of this run's (truncated) log speedups on the configs'
        features plus the model's prediction, evaluated on ``rows``."""
        from sklearn.linear_model import BayesianRidge

        successes = [v for v in self._values if v is not None]
        floor = max(successes) - TRUNCATE
        y = np.array([floor if v is None else max(v, floor) for v in self._values])
        measured_prior, _ = self._prior_of(self._configs)
        X = np.hstack([encode(self._configs), measured_prior[:, None] * PRIOR_SCALE])
        candidates = np.hstack([rows, prior_mean[:, None] * PRIOR_SCALE])
        model = BayesianRidge()
        with warnings.catch_warnings(), _blas().limit(limits=1, user_api="blas"):
            warnings.simplefilter("ignore")
            model.fit(X, y)
            mean, std = model.predict(candidates, return_std=True)
        return np.asarray(mean), np.asarray(std)
