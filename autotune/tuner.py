"""The tuning loop: lower, measure the baseline, search, confirm, report.

This is the only place that drives the ask → build → verify → time → record → tell
cycle. Strategies, runners, databases and callbacks plug into it.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import Any

from autotune._interrupt import raise_if_interrupted
from autotune.backends import backend_for
from autotune.callbacks import AddToDatabase, BaseCallback, LogLegalityBugs
from autotune.candidate import Candidate
from autotune.context import TuneContext
from autotune.cost_model._encoding import loop_facts, store_loop_facts
from autotune.db import BaseDatabase
from autotune.errors import AutotuneError
from autotune.kernels import AS_WRITTEN, KernelDecl
from autotune.loops import LEGALITY_BUG
from autotune.measure import BaseRunner, KernelRef, MeasureRequest
from autotune.program import Target, Workload
from autotune.records import MeasureResult, PortfolioArm, Status, TimingSettings, TrialRecord
from autotune.result import (
    ResultStatus,
    TuningResult,
    baseline_record,
    jsonable,
    run_provenance,
    space_digest,
)
from autotune.space import SearchSpace
from autotune.strategies import make_strategy
from autotune.strategies._portfolio import adapt, reward

_log = logging.getLogger("autotune.tuner")
_FAILED = (Status.BUILD_FAILED, Status.RUN_FAILED, Status.TIMEOUT)
#: Said of a kernel whose held-back input set equals its timed one.
IDENTICAL_INPUTS = (
    "its two input sets are identical (does its input factory ignore its rng or seed?), "
    "so every candidate was verified on one input set only; declare perturb (e.g. 1e-6) "
    "to perturb the held-back set"
)


@dataclass(frozen=True, slots=True)
class TuneOptions:
    """Settings of one tuning run.

    ``budget`` counts unique configs built and measured in this run (ok, wrong, failed,
    timeout); invalid configs and ones answered from the database do not count.
    ``time_limit_s`` applies per kernel. ``confirm_top`` candidates are re-measured by the
    runner's ``confirm`` in fresh workers (by default two, whose layout modes the CI
    spans); a winner needs a confirmed CI above 1.0 and a speedup of at least
    ``1 + tie_tolerance``. ``loops`` adds loop transformations to the search space
    (``off``, ``serial`` or ``parallel`` with up to ``max_threads`` threads; see
    :func:`autotune.passes.cpu_search_space`). With
    ``simplify``, the winner's non-default options are then reset one group at a time,
    keeping each reset that is not slower beyond noise and ``tie_tolerance`` (identical
    code compiled twice can differ by a few percent through code layout). These
    re-measurements are reported as ``simplify_trials``, outside the budget.

    With ``halving`` (successive halving), every search candidate is first timed with
    the cheap :meth:`TimingSettings.screen` settings. Afterwards a contender is
    dropped when its CI lies wholly below the best one's CI (it cannot win); of the
    rest, the best ``1/eta`` (at least ``confirm_top``) are timed again with
    ``timing``, and the best of those go on to confirmation. Without it, every
    candidate is timed with ``timing`` from the start.

    ``baseline`` is what every candidate is timed against: ``as-written`` (the
    default), the kernel as its author wrote it, with its own ``njit`` options
    (fastmath, parallel, error_model, ...; never ``cache``), which are also the base of
    every candidate and the defaults of the search space; or ``numba-default``, plain
    ``numba.njit`` with the author's options ignored (the behaviour of earlier
    releases, for comparisons). The two never share measurements: the workload key
    differs wherever the options do.

    ``continue_run`` makes a run resumable under a fixed run id: search trials already
    in the database count against ``budget`` (running again continues toward the same
    total instead of measuring ``budget`` more), and the baseline, refinement,
    confirmation and simplification trials that this run id recorded are taken from the
    database instead of being measured again.
    """

    budget: int = 60
    time_limit_s: float | None = None
    seed: int = 0
    size: str | None = None
    strategy: str = "auto"
    allow_fastmath: bool = True
    timing: TimingSettings = field(default_factory=TimingSettings)
    confirm_top: int = 3
    candidate_timeout_s: float | None = None
    scope: str = "all"
    simplify: bool = True
    tie_tolerance: float = 0.02
    halving: bool = True
    eta: int = 3
    loops: str = "off"
    max_threads: int | None = None
    continue_run: bool = False
    baseline: str = AS_WRITTEN


@dataclass
class _Search:
    """Mutable state of one kernel's search."""

    workload: Workload
    space: SearchSpace
    records: dict[str, TrialRecord] = field(default_factory=dict)
    spent: int = 0
    resumed: int = 0
    simplify_trials: int = 0
    refine_trials: int = 0
    confirm_trials: int = 0
    notes: list[str] = field(default_factory=list)
    portfolio: list[PortfolioArm] = field(default_factory=list)
    #: Latest (most repeated) measurement of each contender, by config key.
    refined: dict[str, MeasureResult] = field(default_factory=dict)
    #: Budget spent by earlier runs (counted only with ``continue_run``).
    spent_before: int = 0
    #: Trials this run id recorded earlier, by (phase, config key).
    earlier: dict[tuple[str, str], TrialRecord] = field(default_factory=dict)

    @property
    def budget_used(self) -> int:
        return self.spent_before + self.spent


class Tuner:
    """Tunes kernels one at a time with ``runner``, recording into ``db``."""

    def __init__(
        self,
        runner: BaseRunner,
        db: BaseDatabase,
        target: Target | None,
        options: TuneOptions,
        callbacks: Sequence[BaseCallback] = (),
        run_id: str | None = None,
    ) -> None:
        self.runner = runner
        self.db = db
        #: The target every kernel is measured on (replay: the recorded one), or
        #: ``None``: each kernel's backend's target on this machine.
        self.fixed_target = target
        self.target: Any = target
        self.options = options
        self.callbacks = [AddToDatabase(db), LogLegalityBugs(), *callbacks]
        self.run_id = run_id or uuid.uuid4().hex[:12]

    def space_for(self, decl: KernelDecl) -> SearchSpace:
        """``decl``'s search space, as its backend makes it under these options."""
        space: SearchSpace = backend_for(decl).search_space(decl, self.options)
        return space

    def tune(self, decl: KernelDecl, spec: str | None = None) -> TuningResult:
        """Tune one kernel; its result is ``tuned`` or ``skipped`` (with a reason)."""
        decl = decl.as_baseline(self.options.baseline)
        backend = backend_for(decl)
        self.target = self.fixed_target or backend.target()
        ref = KernelRef(
            getattr(decl, "loaded_from", decl.source),
            spec,
            decl.name,
            self.options.size,
            self.options.seed,
            builder=backend.name,
            baseline=self.options.baseline,
        )
        for cb in self.callbacks:
            cb.on_kernel_start(decl.name, self.options.budget)
        tuned = self._tune(decl, ref)
        identity = self._identity(decl, spec)
        # The winner's absolute figures and build features (GPU kernels) stay beside
        # where and how it was tuned.
        identity["provenance"] = {**tuned.provenance, **identity["provenance"]}
        result = replace(tuned, **identity)
        self._remember(decl, result)
        for cb in self.callbacks:
            cb.on_kernel_end(result)
        return result

    def _remember(self, decl: KernelDecl, result: TuningResult) -> None:
        """Store a tuned result's choice in the config cache, keyed cheaply (see
        :mod:`autotune.cache`), for builds and imports to find without tuning."""
        from autotune.cache import entry_for_result, remember

        if not result.tuned or backend_for(decl).name != "numba":
            return  # builds and imports apply tuned configs of Numba kernels only
        try:
            args = decl.make_inputs(self.options.seed, result.size)
            remember(self.db, entry_for_result(decl, args, result, self.target))
        except (AutotuneError, NotImplementedError) as exc:
            # The trials and the result are stored already; only the shortcut is lost.
            _log.warning("kernel %s: its tuned config was not cached: %s", decl.name, exc)

    def _identity(self, decl: KernelDecl, spec: str | None) -> dict[str, Any]:
        """What every result of this tuner records besides its measurements: how to
        rebuild the kernel (``source``, ``spec``), how and where it was tuned, and what
        it was timed against (``decl`` is the declaration as tuned: see
        :meth:`KernelDecl.as_baseline`)."""
        return {
            "source": getattr(decl, "loaded_from", decl.source),
            "spec": spec,
            "target_key": self.target.key,
            "size": self.options.size or decl.default_size,
            "seed": self.options.seed,
            "run_id": self.run_id,
            "options": jsonable(asdict(self.options)),
            "provenance": jsonable(run_provenance(self.target, self.run_id)),
            "baseline": baseline_record(self.options.baseline, decl.njit_options),
        }

    def _tune(self, decl: KernelDecl, ref: KernelRef) -> TuningResult:
        lowered = self.runner.lower(ref)
        if lowered.workload is None:
            return _skipped(decl.name, lowered.error)
        workload = lowered.workload
        self.db.add_workload(workload, decl.source)
        search = _Search(workload, self.space_for(decl), earlier=self._earlier_in_run(workload))
        started = time.perf_counter()
        record = self._once(
            decl.name,
            search,
            None,
            "baseline",
            partial(self._measure_one, ref, MeasureRequest(None, self.options.timing)),
        )
        baseline = record.result
        baseline_wall = time.perf_counter() - started
        if baseline.status is not Status.OK:
            return _skipped(decl.name, _baseline_reason(baseline), workload)
        # A baseline taken from the database cost no wall time here, but candidates will.
        baseline_wall = max(baseline_wall, _measurement_s(baseline))
        timeout = self.options.candidate_timeout_s or max(30.0, 10 * baseline_wall + 20)
        search.portfolio = self.db.portfolio(self.target.key)
        self._search(decl, ref, search, timeout)
        result = self._confirm(decl, ref, search, baseline, timeout)
        if lowered.identical_inputs:
            result = replace(result, warnings=(IDENTICAL_INPUTS,))
        self._update_portfolio(search, result)
        return result

    def _update_portfolio(self, search: _Search, result: TuningResult) -> None:
        """Credit the portfolio's arms with what they earned on this workload, and add
        the confirmed winner as an arm for later problem instances."""
        for arm in search.portfolio:
            config = adapt(search.space, arm.config)
            key = None if config is None else Candidate.from_config(config).key
            if key is not None and key in search.records:
                earned = reward(search.records[key].result)
                self.db.add_portfolio_reward(
                    self.target.key, search.workload.key, arm.config, earned
                )
        if result.best_config is not None:
            self.db.add_portfolio_reward(
                self.target.key, search.workload.key, result.best_config, math.log(result.speedup)
            )

    def _measure_one(self, ref: KernelRef, request: MeasureRequest) -> MeasureResult:
        return self.runner.measure(ref, [request])[0]

    def _earlier_in_run(self, workload: Workload) -> dict[tuple[str, str], TrialRecord]:
        """Non-search trials that this run id recorded for ``workload`` before."""
        if not self.options.continue_run:
            return {}
        return {
            (r.phase, r.config_key): r
            for r in self.db.trials(workload.key, self.target.key, phase=None)
            if r.run_id == self.run_id and r.phase != "search"
        }

    def _once(
        self,
        kernel: str,
        search: _Search,
        candidate: Candidate | None,
        phase: str,
        measure: Callable[[], MeasureResult],
    ) -> TrialRecord:
        """The trial of ``candidate`` in ``phase``: recorded earlier by this run, or
        measured now and recorded."""
        key = "baseline" if candidate is None else candidate.key
        earlier = search.earlier.get((phase, key))
        if earlier is not None:
            return earlier
        record = self._record(
            kernel, search.workload, candidate, phase, measure(), search.budget_used
        )
        if self.options.continue_run:
            # e.g. a simplified winner equal to a contender confirmed before: the
            # database keeps one trial per run, phase and config, so reuse that one.
            search.earlier[(phase, key)] = record
        return record

    def _search(self, decl: KernelDecl, ref: KernelRef, search: _Search, timeout: float) -> None:
        opts = self.options
        context = TuneContext.from_database(
            self.db, search.workload, self.target, search.space, backend_for(decl).name
        )
        strategy = make_strategy(
            opts.strategy,
            search.space,
            opts.seed,
            opts.budget,
            storage=self.db.optuna_storage,
            study_name=f"autotune:{decl.name}:{search.workload.key}:{self.run_id}",
            portfolio=search.portfolio,
            context=context,
        )
        store_loop_facts(self.db, search.workload.ir_hash, loop_facts(search.space))
        self._note(decl.name, search, context.model_note())
        default = Candidate.from_config(search.space.default_config())
        strategy.mark_seen(default)  # the baseline is never a candidate
        prior = [
            r
            for r in self.db.trials(search.workload.key, self.target.key, "search")
            if search.space.violation(r.config) is None  # e.g. fastmath since disallowed
        ]
        for record in prior:
            search.records[record.config_key] = record
        if prior:
            strategy.tell(
                [Candidate.from_config(r.config) for r in prior], [r.result for r in prior]
            )
            search.resumed = len(prior)
        if opts.continue_run:
            search.spent_before = sum(1 for r in prior if r.result.status.counts_against_budget)
        deadline = None if opts.time_limit_s is None else time.monotonic() + opts.time_limit_s
        landmarks = [Candidate.from_config(c) for c in search.space.landmarks()]
        if not strategy.measures_landmarks:
            landmarks = []
        ahead = backend_for(decl).ask_ahead
        queued: list[Candidate] = []
        while search.budget_used < opts.budget and (
            deadline is None or time.monotonic() < deadline
        ):
            if landmarks:  # the space's landmarks first, then the strategy's proposals
                candidate = landmarks.pop(0)
                if strategy.is_seen(candidate):
                    continue
            else:
                if not queued:
                    left = opts.budget - search.budget_used
                    queued = strategy.ask(max(1, min(ahead, left)))
                    if not queued:
                        break  # the space is exhausted
                    if len(queued) > 1:  # the builder compiles them while we measure
                        self.runner.prepare(ref, [c.config for c in queued])
                candidate = queued.pop(0)
            if candidate.key in search.records:
                continue
            trial = self._search_trial(decl, ref, search, candidate, timeout)
            if trial is None:
                continue  # another process is measuring it; its record is picked up below
            search.records[candidate.key] = trial
            strategy.tell([candidate], [trial.result])
        for note in strategy.notes():
            self._note(decl.name, search, note)
        self._pick_up_others(search)

    def _note(self, kernel: str, search: _Search, text: str) -> None:
        """Tell the callbacks ``text`` and keep it for the result's provenance."""
        search.notes.append(text)
        for cb in self.callbacks:
            cb.on_note(kernel, text)

    def _search_trial(
        self,
        decl: KernelDecl,
        ref: KernelRef,
        search: _Search,
        candidate: Candidate,
        timeout: float,
    ) -> TrialRecord | None:
        """The search trial of ``candidate``: invalid, or measured under a claim
        (``None`` while another process measures it)."""
        why = search.space.violation(candidate.config)
        if why is None:
            return self._measure_claimed(decl, ref, search, candidate, timeout)
        invalid = MeasureResult(Status.INVALID, why)
        return self._record(
            decl.name, search.workload, candidate, "search", invalid, search.budget_used
        )

    def _measure_claimed(
        self,
        decl: KernelDecl,
        ref: KernelRef,
        search: _Search,
        candidate: Candidate,
        timeout: float,
    ) -> TrialRecord | None:
        """The search trial of ``candidate``, measured and recorded under a claim, so
        that processes sharing this workload never measure one config twice.

        ``None`` while another live process holds the claim. A trial another process
        stored since this search began is taken as it is: not measured, not counted
        against the budget.
        """
        keys = (search.workload.key, self.target.key, candidate.key)
        if not self.db.claim(*keys, self.run_id):
            return None
        try:
            stored = self.db.search_trial(*keys)
            if stored is not None:
                search.resumed += 1
                return stored
            settings = self.options.timing.screen() if self.options.halving else self.options.timing
            request = MeasureRequest(candidate.config, settings, timeout)
            result = self.runner.measure(ref, [request])[0]
            # A runner may answer invalid or skipped itself (replay of a recorded space
            # whose restrictions the space does not know): those cost no build.
            search.spent += result.status.counts_against_budget
            # Recorded (and so stored) before the claim goes: a process claiming it next
            # finds the trial instead of measuring it again.
            return self._record(
                decl.name, search.workload, candidate, "search", result, search.budget_used
            )
        finally:
            self.db.release(*keys, self.run_id)

    def _pick_up_others(self, search: _Search) -> None:
        """Take the search trials that other processes stored for this workload while
        this one searched: they compete for confirmation like this run's own."""
        for record in self.db.trials(search.workload.key, self.target.key, "search"):
            known = record.config_key in search.records
            if not known and search.space.violation(record.config) is None:
                search.records[record.config_key] = record
                search.resumed += 1

    def _confirm(
        self,
        decl: KernelDecl,
        ref: KernelRef,
        search: _Search,
        baseline: MeasureResult,
        timeout: float,
    ) -> TuningResult:
        contenders = [
            r
            for r in search.records.values()
            if r.result.status is Status.OK
            and (r.result.speedup or 0) > 1.0
            and not same_code(r.result, baseline)
        ]
        if self.options.halving:
            self._refine(decl, ref, search, contenders, timeout)
        estimate = {r.config_key: search.refined.get(r.config_key, r.result) for r in contenders}
        contenders = [r for r in contenders if r.config_key in search.refined] or contenders
        contenders = sorted(contenders, key=lambda r: -(estimate[r.config_key].speedup or 0))[
            : self.options.confirm_top
        ]
        confirmed: list[tuple[TrialRecord, MeasureResult]] = []
        for record in contenders:
            request = MeasureRequest(record.config, self.options.timing.confirm(), timeout)
            candidate = Candidate.from_config(record.config)
            result = self._once(
                decl.name,
                search,
                candidate,
                "confirm",
                partial(self.runner.confirm, ref, request),
            ).result
            search.confirm_trials += 1
            if result.status is Status.OK and result.timing is not None:
                confirmed.append((record, result))
        winner = choose_winner(confirmed, search.space, self.options.tie_tolerance)
        if winner is not None and self.options.simplify:
            winner = self._simplify(decl, ref, search, winner, timeout)
        return self._result(decl, search, baseline, winner)

    def _refine(
        self,
        decl: KernelDecl,
        ref: KernelRef,
        search: _Search,
        contenders: list[TrialRecord],
        timeout: float,
    ) -> None:
        """The middle rung of successive halving: the screened contenders that could
        still win, at most the best ``1/eta`` of them, are timed again with the full
        settings. (The rung above it is confirmation in fresh processes.)"""
        screened = {r.config_key: r.result for r in contenders}
        for key in promote(screened, self.options.eta, self.options.confirm_top):
            record = search.records[key]
            request = MeasureRequest(record.config, self.options.timing, timeout)
            candidate = Candidate.from_config(record.config)
            result = self._once(
                decl.name, search, candidate, "refine", partial(self._measure_one, ref, request)
            ).result
            search.refine_trials += 1
            if result.status is Status.OK and result.timing is not None:
                search.refined[key] = result

    def _simplify(
        self,
        decl: KernelDecl,
        ref: KernelRef,
        search: _Search,
        winner: tuple[TrialRecord, MeasureResult],
        timeout: float,
    ) -> tuple[TrialRecord, MeasureResult]:
        """Drop options of the winner that do not matter beyond noise.

        Each reset is built and timed paired against the current best in the search
        worker. It is kept when it compiles to identical code, or when it is not slower
        beyond noise. A simplified config must then beat the baseline again in a fresh
        process, or the winner stands.
        """
        space, settings = search.space, self.options.timing.confirm()
        default = space.default_config()
        best_config = winner[0].config
        for group in option_groups(best_config, default):
            trial = space.with_defaults({k: v for k, v in best_config.items() if k not in group})
            if trial in (best_config, default) or space.violation(trial) is not None:
                continue
            candidate = Candidate.from_config(trial)
            request = MeasureRequest(trial, settings, timeout, against=best_config)
            result = self._once(
                decl.name,
                search,
                candidate,
                "simplify",
                partial(self._measure_one, ref, request),
            ).result
            search.simplify_trials += 1
            identical = result.code_hash is not None and result.code_hash == (
                result.provenance.get("reference_code_hash")
            )
            if identical or _not_slower(result, self.options.tie_tolerance):
                best_config = trial
        if best_config == winner[0].config:
            return winner
        candidate = Candidate.from_config(best_config)
        request = MeasureRequest(best_config, settings, timeout)
        record = self._once(
            decl.name, search, candidate, "confirm", partial(self.runner.confirm, ref, request)
        )
        search.confirm_trials += 1
        final = record.result
        if choose_winner([(record, final)], space, self.options.tie_tolerance) is None:
            return winner  # the simpler config does not hold up on its own
        return record, final

    def _record(
        self,
        kernel: str,
        workload: Workload,
        candidate: Candidate | None,
        phase: str,
        result: MeasureResult,
        spent: int,
    ) -> TrialRecord:
        config = {} if candidate is None else candidate.config
        record = TrialRecord(
            kernel=kernel,
            workload_key=workload.key,
            target_key=self.target.key,
            config_key="baseline" if candidate is None else candidate.key,
            config=config,
            phase=phase,
            result=result,
            run_id=self.run_id,
            created_at=time.time(),
        )
        for cb in self.callbacks:
            cb.on_trial(record, spent)
        raise_if_interrupted()  # a Ctrl-C swallowed meanwhile stops the run, this trial kept
        return record

    def _result(
        self,
        decl: KernelDecl,
        search: _Search,
        baseline: MeasureResult,
        winner: tuple[TrialRecord, MeasureResult] | None,
    ) -> TuningResult:
        statuses = [r.result.status for r in search.records.values()]
        assert baseline.timing is not None
        baseline_s = baseline.timing.baseline_s
        speedup, ci, best_config, code_hash = 1.0, (1.0, 1.0), None, None
        extras: dict[str, Any] = {}
        if winner is not None:
            record, result = winner
            assert result.timing is not None
            baseline_s = result.timing.baseline_s
            speedup, ci = result.timing.speedup, result.timing.speedup_ci95
            best_config, code_hash = jsonable(record.config), result.code_hash
            extras = {
                k: result.provenance[k] for k in ("figures", "build") if k in result.provenance
            }
        workload = search.workload
        return TuningResult(
            kernel=decl.name,
            status=ResultStatus.TUNED,
            ir_hash=workload.ir_hash,
            workload_key=workload.key,
            arg_types=workload.arg_types,
            inputs=workload.inputs,
            baseline_s=baseline_s,
            best_s=baseline_s / speedup,
            speedup=speedup,
            speedup_ci95=ci,
            best_config=best_config,
            best_changes=_changes_from(best_config, jsonable(search.space.default_config())),
            best_code_hash=code_hash,
            space_digest=space_digest(search.space),
            trials=sum(1 for s in statuses if s.counts_against_budget),
            failed=sum(1 for s in statuses if s in _FAILED),
            rejected_wrong=sum(1 for s in statuses if s is Status.WRONG_RESULT),
            loop_legality_bugs=sum(
                1 for r in search.records.values() if r.result.error.startswith(LEGALITY_BUG)
            ),
            invalid=sum(1 for s in statuses if s is Status.INVALID),
            measured_this_run=search.spent,
            resumed=search.resumed,
            simplify_trials=search.simplify_trials,
            refine_trials=search.refine_trials,
            confirm_trials=search.confirm_trials,
            provenance=_result_provenance(extras, search.notes),
        )


def _result_provenance(winner: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    provenance: dict[str, Any] = {}
    if winner:
        provenance["winner"] = jsonable(winner)
    if notes:
        provenance["notes"] = list(notes)
    return provenance


def choose_winner(
    confirmed: list[tuple[TrialRecord, MeasureResult]],
    space: SearchSpace,
    tie_tolerance: float = 0.0,
) -> tuple[TrialRecord, MeasureResult] | None:
    """The confirmed candidate to report, or ``None`` when none beats the baseline.

    Only a confirmed speedup of at least ``1 + tie_tolerance`` whose CI lies above 1.0
    counts: smaller differences are within what code layout alone does (candidates
    compiling to the baseline's own code never reach confirmation). Among candidates
    whose CI
    overlaps the best one's, the simplest (fewest non-default settings) wins: they are
    within noise of each other.
    """
    beating = [
        (rec, res)
        for rec, res in confirmed
        if res.timing
        and res.timing.speedup_ci95[0] > 1.0
        and res.timing.speedup >= 1.0 + tie_tolerance
    ]
    if not beating:
        return None
    best = max(beating, key=lambda rr: rr[1].timing.speedup if rr[1].timing else 0.0)
    assert best[1].timing is not None
    best_lo = best[1].timing.speedup_ci95[0]
    ties = [rr for rr in beating if rr[1].timing and rr[1].timing.speedup_ci95[1] >= best_lo]
    default = space.default_config()
    return min(
        ties,
        key=lambda rr: (
            _changes(rr[0].config, default),
            -(rr[1].timing.speedup if rr[1].timing else 0),
        ),
    )


def promote(results: dict[str, MeasureResult], eta: int, keep: int) -> list[str]:
    """The config keys of one rung of successive halving that are timed again.

    A candidate whose CI lies wholly below the CI of the best estimate cannot win and is
    dropped; of the rest, the best ``1/eta`` (at least ``keep``) go on, best first.
    """
    timed = {k: r.timing for k, r in results.items() if r.timing is not None}
    if not timed:
        return []
    best_lo = max(t.speedup_ci95[0] for t in timed.values())
    alive = [k for k, t in timed.items() if t.speedup_ci95[1] >= best_lo]
    alive.sort(key=lambda k: -timed[k].speedup)
    return alive[: max(keep, math.ceil(len(alive) / eta))]


def option_groups(config: dict[str, Any], default: dict[str, Any]) -> list[tuple[str, ...]]:
    """The winner's non-default settings, grouped by what is reset together.

    A pass order (mode and sequence) goes first, then fastmath (it changes semantics),
    then every other option on its own.
    """
    changed = [k for k, v in config.items() if default.get(k) != v]
    groups: list[tuple[str, ...]] = []
    for prefix in ("passes.", "flags.fastmath"):
        members = tuple(k for k in changed if k.startswith(prefix))
        if members:
            groups.append(members)
    grouped = {k for g in groups for k in g}
    groups.extend((k,) for k in changed if k not in grouped)
    return groups


def same_code(result: MeasureResult, other: MeasureResult) -> bool:
    """Whether two builds produced identical optimized code: any difference between
    their timings is noise or code layout, never a real speedup."""
    return result.code_hash is not None and result.code_hash == other.code_hash


def _not_slower(result: MeasureResult, tolerance: float) -> bool:
    """Whether an A/B result shows the candidate no slower than what it was paired with,
    beyond noise and ``tolerance``."""
    if result.status is not Status.OK or result.timing is None:
        return False
    return result.timing.speedup_ci95[1] >= 1.0 - tolerance


def _changes_from(config: dict[str, Any] | None, default: dict[str, Any]) -> dict[str, Any]:
    return {} if config is None else {k: v for k, v in config.items() if default.get(k) != v}


def _changes(config: dict[str, Any], default: dict[str, Any]) -> int:
    return sum(1 for k, v in config.items() if default.get(k) != v)


def _measurement_s(result: MeasureResult) -> float:
    """About how long measuring ``result`` took: build, verification and timed calls."""
    timed = 0.0
    if result.timing is not None:
        rounds = result.timing.baseline_rounds + result.timing.candidate_rounds
        timed = sum(map(sum, rounds)) * result.timing.calls_per_sample
    return (result.compile_s or 0.0) + (result.verify_s or 0.0) + timed


def _baseline_reason(result: MeasureResult) -> str:
    if result.status is Status.WRONG_RESULT:
        return result.error
    return f"baseline {result.status}: {result.error}"


def _skipped(kernel: str, reason: str, workload: Workload | None = None) -> TuningResult:
    if workload is None:
        return TuningResult(kernel, ResultStatus.SKIPPED, reason)
    return TuningResult(
        kernel,
        ResultStatus.SKIPPED,
        reason,
        ir_hash=workload.ir_hash,
        workload_key=workload.key,
        arg_types=workload.arg_types,
        inputs=workload.inputs,
    )
