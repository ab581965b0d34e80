"""A streaming anomaly detector for one series: O(1) per point, a few KB of state.

Three models learn every point: a basic robust level, a daily profile (48 half-hours) and
a weekly one (168 hours), each with its own robust scale. The one with the smallest recent
one-step error is used (a profile only once it has two cycles of history and beats the
level by 20%, or as configured). A point's deviation in sigmas goes through the series'
own tail model to a p-value, and the score is -10 * log10(p_value), capped at 100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from domain.anomaly.model import (
    MAX_SCORE,
    DetectorConfig,
    Direction,
    Learning,
    ModelState,
    Scored,
    Seasonality,
    score_to_p_value,
)
from domain.anomaly.profile import DAILY_SLOTS, DAY_US, WEEK_US, WEEKLY_SLOTS, Profile
from domain.anomaly.tail import band_sigmas, learn_tail
from domain.anomaly.tail import p_value as tail_p_value
from domain.anomaly.tuning import (
    ABS_FLOOR,
    CLIP,
    ERROR_RATE,
    LEARNING_US,
    LEVEL_RATE,
    MIN_POINTS,
    MIN_POINTS_EARLY,
    PRIOR_EXCESS,
    PRIOR_TAIL,
    PROFILE_CYCLES,
    QUIET_POINTS,
    REL_FLOOR,
    RESOLUTION_SHARE,
    SCALE_RATE,
    SEASONAL_GAIN,
    SECOND_US,
    SHIFT_RATE,
    SHIFT_RUN,
    SIGMA_PER_MAD,
    SMALL_SAMPLE,
    STEP_RATE,
)

__all__ = ["STATE_SCALARS", "STATE_VERSION", "AnomalyDetector"]

STATE_VERSION = 1
# The scalar part of the state, by slot name (the profiles are saved separately).
_SCALARS = (
    "_n",
    "_first_us",
    "_last_us",
    "_step_us",
    "_previous",
    "_resolution",
    "_level",
    "_basic_scale",
    "_basic_error",
    "_tail_up",
    "_tail_down",
    "_excess_up",
    "_excess_down",
    "_run",
    "_run_sum",
    "_quiet",
)
STATE_SCALARS = tuple(name[1:] for name in _SCALARS)  # their names in the state


class AnomalyDetector:
    """Learn one series point by point and score each point against what came before."""

    __slots__ = (*_SCALARS, "_daily", "_p_alarm", "_weekly", "config")

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        self._p_alarm = score_to_p_value(self.config.threshold)
        self._n = 0
        self._first_us = 0
        self._last_us = 0
        self._step_us = 0.0
        self._previous = 0.0
        self._resolution = 0.0
        self._level = 0.0
        self._basic_scale = 0.0
        self._basic_error = 0.0
        self._tail_up = self._tail_down = PRIOR_TAIL
        self._excess_up = self._excess_down = PRIOR_EXCESS
        self._run = 0
        self._run_sum = 0.0
        self._quiet = QUIET_POINTS
        self._daily = Profile(DAILY_SLOTS, DAY_US)
        self._weekly = Profile(WEEKLY_SLOTS, WEEK_US)

    def observe(self, timestamp_us: int, value: float) -> Scored:
        """Score `value` against the model, then learn from it.

        Points are expected in time order: one at or before the latest is scored against
        the current model but not learned from (a retry must not count twice).
        """
        if not math.isfinite(value):
            raise ValueError(f"a detector scores finite values only, not {value}")
        n = self._n
        stale = n > 0 and timestamp_us <= self._last_us
        if n == 0:
            self._first_us = self._last_us = timestamp_us
            self._level = self._previous = value
        elif not stale:
            dt = timestamp_us - self._last_us
            self._step_us = dt if n == 1 else self._step_us + STEP_RATE * (dt - self._step_us)
            self._last_us = timestamp_us
        if not stale:
            n += 1
            self._n = n

        level = self._level
        daily, weekly = self._daily, self._weekly
        d_slot = daily.slot(timestamp_us)
        w_slot = weekly.slot(timestamp_us)
        daily_pred = daily.offsets[d_slot] + daily.shift
        weekly_pred = weekly.offsets[w_slot] + weekly.shift
        if daily_pred != daily_pred:  # NaN: a slot not seen yet
            daily_pred = level
        if weekly_pred != weekly_pred:
            weekly_pred = daily_pred

        seasonality = self._choose(timestamp_us)
        if seasonality is Seasonality.DAILY:
            baseline, sigma = daily_pred, SIGMA_PER_MAD * daily.scale
        elif seasonality is Seasonality.WEEKLY:
            baseline, sigma = weekly_pred, SIGMA_PER_MAD * weekly.scale
        else:
            baseline, sigma = level, SIGMA_PER_MAD * self._basic_scale
        floor = ABS_FLOOR + REL_FLOOR * abs(baseline)
        if RESOLUTION_SHARE * self._resolution > floor:
            floor = RESOLUTION_SHARE * self._resolution
        widen = 1.0 + SMALL_SAMPLE / max(n, 1)
        scale = (sigma if sigma > floor else floor) * widen
        residual = value - baseline
        z = residual / scale
        learning = self._learning(timestamp_us)
        scored = self._score(timestamp_us, value, baseline, scale, z, seasonality, learning)
        if stale:
            return scored
        self._quiet = 0 if scored.anomalous else self._quiet + 1
        if learning is None:
            (self._tail_up, self._tail_down, self._excess_up, self._excess_down) = learn_tail(
                z, self._tail_up, self._tail_down, self._excess_up, self._excess_down
            )

        # Learn: the basic level, then both profiles, each judged by its own scale.
        change = abs(value - self._previous)
        self._previous = value
        if change > 0.0:
            if self._resolution == 0.0:
                self._resolution = change
            else:
                self._resolution += max(1.0 / n, SCALE_RATE) * (change - self._resolution)
        scale_rate = max(1.0 / n, SCALE_RATE)
        error_rate = max(1.0 / n, ERROR_RATE)
        r = value - level
        self._basic_error += error_rate * (abs(r) - self._basic_error)
        own = self._basic_scale
        sigma = SIGMA_PER_MAD * own
        limit = CLIP * widen * (sigma if sigma > floor else floor)
        rc = limit if r > limit else -limit if r < -limit else r
        self._level = level + max(1.0 / n, LEVEL_RATE) * rc
        self._basic_scale = own + scale_rate * (abs(rc) - own)
        self._run, self._run_sum, jump = _run(self._run, self._run_sum, r, limit)
        self._level += jump
        age = timestamp_us - self._first_us
        step = self._step_us
        for profile, pred, slot in ((daily, daily_pred, d_slot), (weekly, weekly_pred, w_slot)):
            r = value - pred
            profile.error += error_rate * (abs(r) - profile.error)
            own = profile.scale
            sigma = SIGMA_PER_MAD * own
            limit = CLIP * widen * (sigma if sigma > floor else floor)
            rc = limit if r > limit else -limit if r < -limit else r
            # A slot remembers about PROFILE_CYCLES visits' worth of points.
            most = int(PROFILE_CYCLES * profile.slot_us / step) + 1 if step > 0.0 else 2
            if age < profile.cycle_us:
                # The first cycle learns the shape unclipped: there is nothing to clip by.
                profile.learn(slot, value, r, most)
            else:
                profile.learn(slot, value, rc, most)
                profile.shift += SHIFT_RATE * rc
                profile.run, profile.run_sum, jump = _run(profile.run, profile.run_sum, r, limit)
                profile.shift += jump
            profile.scale = own + scale_rate * (abs(rc) - own)
        return scored

    def describe(self) -> tuple[ModelState, Seasonality, int, float, Learning | None]:
        """Where the model stands after the latest point: its state, the profile it would
        use, points and seconds learned, and why it has no band yet (if it has none)."""
        last = self._last_us
        learning = self._learning(last) if self._n else self._learning(0)
        seasonality = self._choose(last) if self._n else Seasonality.NONE
        if learning is not None:
            state = ModelState.LEARNING
        elif seasonality is Seasonality.NONE:
            state = ModelState.BASIC
        else:
            state = ModelState.SEASONAL
        return state, seasonality, self._n, (last - self._first_us) / SECOND_US, learning

    def seed(self, timestamps_us: Sequence[int], values: Sequence[float], step_us: int) -> int:
        """Warm the model from history on a regular grid (rollup averages, say), oldest
        first, so that a new or restarted detector has a band at once. Missing buckets may
        be NaN and are skipped; points not after the latest one seen are ignored. Returns
        how many points were learned.

        Rollup averages are smoother than raw points: after seeding from coarse rollups
        the scale starts low and widens over the next few hundred live points.
        """
        if len(timestamps_us) != len(values):
            raise ValueError("seed needs as many timestamps as values")
        if step_us <= 0:
            raise ValueError("seed needs a positive step")
        learned = 0
        for timestamp_us, value in zip(timestamps_us, values, strict=True):
            if not math.isfinite(value) or (self._n and timestamp_us <= self._last_us):
                continue
            self.observe(timestamp_us, value)
            learned += 1
        if learned and self._step_us <= 0.0:
            self._step_us = float(step_us)
        # History is not news: nothing in it opens an episode live.
        self._quiet = QUIET_POINTS
        return learned

    def to_state(self) -> dict[str, Any]:
        """JSON-ready state (a few KB); `from_state` restores it exactly."""
        config = self.config
        return {
            "version": STATE_VERSION,
            "config": {
                "sensitivity": config.sensitivity,
                "direction": config.direction.value,
                "seasonality": config.seasonality.value,
            },
            "scalars": {name[1:]: getattr(self, name) for name in _SCALARS},
            "daily": self._daily.to_state(),
            "weekly": self._weekly.to_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> AnomalyDetector:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unknown detector state version {state.get('version')!r}")
        config = state["config"]
        detector = cls(
            DetectorConfig(
                sensitivity=float(config["sensitivity"]),
                direction=Direction(config["direction"]),
                seasonality=Seasonality(config["seasonality"]),
            )
        )
        for name in _SCALARS:
            setattr(detector, name, state["scalars"][name[1:]])
        detector._daily = Profile.from_state(state["daily"], DAY_US)
        detector._weekly = Profile.from_state(state["weekly"], WEEK_US)
        return detector

    def _score(
        self,
        timestamp_us: int,
        value: float,
        baseline: float,
        scale: float,
        z: float,
        seasonality: Seasonality,
        learning: Learning | None,
    ) -> Scored:
        direction = self.config.direction
        if z >= 0.0:
            tail, excess, side = self._tail_up, self._excess_up, Direction.UP
            wanted = direction is not Direction.DOWN
        else:
            tail, excess, side = self._tail_down, self._excess_down, Direction.DOWN
            wanted = direction is not Direction.UP
        both = direction is Direction.BOTH
        if learning is not None or not wanted:
            p_value = 1.0
        else:
            p_value = tail_p_value(abs(z), tail, excess, both)
        score = MAX_SCORE if p_value <= 1e-10 else -10.0 * math.log10(p_value)
        anomalous = learning is None and score >= self.config.threshold
        # The band: where a deviation would reach the threshold on each side.
        allowed = self._p_alarm * (0.5 if both else 1.0)
        up = band_sigmas(self._tail_up, self._excess_up, allowed)
        down = band_sigmas(self._tail_down, self._excess_down, allowed)
        if learning is not None:
            state = ModelState.LEARNING
        elif seasonality is Seasonality.NONE:
            state = ModelState.BASIC
        else:
            state = ModelState.SEASONAL
        return Scored(
            timestamp_us=timestamp_us,
            value=value,
            baseline=baseline,
            lower=baseline - down * scale,
            upper=baseline + up * scale,
            score=score,
            p_value=p_value,
            deviations=z,
            direction=side if anomalous else Direction.NONE,
            seasonality=seasonality,
            state=state,
            model_age_points=self._n,
            model_age_seconds=(self._last_us - self._first_us) / SECOND_US,
            anomalous=anomalous,
            onset=anomalous and self._quiet >= QUIET_POINTS,
            learning=learning,
        )

    def _choose(self, timestamp_us: int) -> Seasonality:
        wanted = self.config.seasonality
        age = timestamp_us - self._first_us
        if wanted is Seasonality.NONE:
            return Seasonality.NONE
        if wanted is Seasonality.DAILY:
            return Seasonality.DAILY if age >= DAY_US else Seasonality.NONE
        if wanted is Seasonality.WEEKLY:
            return Seasonality.WEEKLY if age >= WEEK_US else Seasonality.NONE
        best, error = Seasonality.NONE, self._basic_error
        if age >= 2 * DAY_US and self._daily.error < SEASONAL_GAIN * error:
            best, error = Seasonality.DAILY, self._daily.error
        if age >= 2 * WEEK_US and self._weekly.error < SEASONAL_GAIN * error:
            best = Seasonality.WEEKLY
        return best

    def _learning(self, timestamp_us: int) -> Learning | None:
        n = self._n
        if n >= MIN_POINTS:
            return None
        elapsed = max(timestamp_us - self._first_us, 0)
        if n >= MIN_POINTS_EARLY and elapsed >= LEARNING_US:
            return None
        return Learning(
            reason=f"too little history for a band: {n} points over {elapsed // SECOND_US} s",
            points_needed=MIN_POINTS - n,
            seconds_needed=(LEARNING_US - elapsed) / SECOND_US,
        )


def _run(run: int, total: float, residual: float, limit: float) -> tuple[int, float, float]:
    """Count residuals beyond `limit` in a row on one side; SHIFT_RUN of them are a new
    level, not a string of anomalies: return the jump that moves the model onto it."""
    if residual > limit:
        run, total = (run + 1, total + residual) if run > 0 else (1, residual)
    elif residual < -limit:
        run, total = (run - 1, total + residual) if run < 0 else (-1, residual)
    else:
        return 0, 0.0, 0.0
    if abs(run) >= SHIFT_RUN:
        return 0, 0.0, total / abs(run)
    return run, total, 0.0
