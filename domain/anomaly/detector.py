"""A streaming anomaly detector for one series: O(1) per point, a few KB of state."""

from __future__ import annotations

import math

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
from domain.anomaly.profile import DAILY_SLOTS, WEEKLY_SLOTS, Profile

__all__ = ["AnomalyDetector"]

SECOND_US = 1_000_000
DAY_US = 86_400 * SECOND_US
WEEK_US = 7 * DAY_US

MIN_POINTS = 10  # a band after this many points...
MIN_POINTS_EARLY = 3  # ...or after this many once LEARNING_US has passed
LEARNING_US = 15 * 60 * SECOND_US

LEVEL_RATE = 0.1  # basic level: follows the series within ~10 points
SHIFT_RATE = 0.02  # seasonal models' level
SCALE_RATE = 0.003  # scales: ~300 points of memory
ERROR_RATE = 0.005  # model comparison: ~200 points
PROFILE_CYCLES = 2.0  # a profile hour forgets with ~2 cycles of memory
CLIP = 2.4  # residuals beyond CLIP sigmas move the model only as far as CLIP sigmas
SHIFT_RUN = 6  # this many points in a row beyond CLIP on one side: a new level
SEASONAL_GAIN = 0.8  # a profile must cut the one-step error by 20% to be used

TAIL_FROM = 2.4  # the tail model starts at 2.4 sigmas
TAIL_RATE = 0.002  # ~500 points of memory for how often the tail is reached
EXCESS_RATE = 0.005  # ~200 exceedances of memory for how far beyond it points go
PRIOR_TAIL = 0.0082  # a normal distribution's one-sided P(z > 2.4)
PRIOR_EXCESS = 0.35  # its mean excess beyond 2.4 (0.34), rounded up
MAX_EXCESS = 16.0  # one huge point moves the tail model as much as a 18-sigma one
SIGMA_PER_MAD = 1.2533  # sigma / mean absolute deviation, for a normal distribution
ABS_FLOOR = 1e-9
# Counts and other stepped series: the scale is at least half their typical non-zero step,
# or a series of zeros and ones would call every one infinitely surprising.
RESOLUTION_SHARE = 0.6
REL_FLOOR = 1e-4  # a flat series still has a scale: 0.01% of its level
QUIET_POINTS = 12  # an episode ends after this many unflagged points
SMALL_SAMPLE = 3.0  # the band widens by (1 + SMALL_SAMPLE / n) on short histories


class AnomalyDetector:
    """Learn a series point by point and score each point against what came before."""

    __slots__ = (
        "_basic_error",
        "_basic_scale",
        "_daily",
        "_excess_down",
        "_excess_up",
        "_first_us",
        "_last_us",
        "_level",
        "_n",
        "_quiet",
        "_run",
        "_run_sum",
        "_seasonality",
        "_previous",
        "_resolution",
        "_step_us",
        "_tail_down",
        "_tail_up",
        "_weekly",
        "config",
    )

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        self._n = 0
        self._first_us = 0
        self._last_us = 0
        self._step_us = 0.0
        self._previous = 0.0
        self._resolution = 0.0
        self._level = 0.0
        self._basic_scale = 0.0
        self._basic_error = 0.0
        self._daily = Profile(DAILY_SLOTS, DAY_US)
        self._weekly = Profile(WEEKLY_SLOTS, WEEK_US)
        self._seasonality = Seasonality.NONE
        self._tail_up = PRIOR_TAIL
        self._tail_down = PRIOR_TAIL
        self._excess_up = PRIOR_EXCESS
        self._excess_down = PRIOR_EXCESS
        self._run = 0
        self._run_sum = 0.0
        self._quiet = QUIET_POINTS

    def observe(self, timestamp_us: int, value: float) -> Scored:
        """Score `value` against the model, then learn from it. Points arrive in time order;
        a point at or before the last one is scored but not learned from twice."""
        n = self._n
        if n == 0:
            self._first_us = self._last_us = timestamp_us
            self._level = value
        elif timestamp_us > self._last_us:
            dt = timestamp_us - self._last_us
            self._step_us = dt if n == 1 else self._step_us + 0.05 * (dt - self._step_us)
            self._last_us = timestamp_us
        n += 1
        self._n = n

        # The three candidate models' predictions for this point.
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
            baseline, scale = daily_pred, SIGMA_PER_MAD * daily.scale
        elif seasonality is Seasonality.WEEKLY:
            baseline, scale = weekly_pred, SIGMA_PER_MAD * weekly.scale
        else:
            baseline, scale = level, SIGMA_PER_MAD * self._basic_scale
        floor = ABS_FLOOR + REL_FLOOR * abs(baseline)
        if RESOLUTION_SHARE * self._resolution > floor:
            floor = RESOLUTION_SHARE * self._resolution
        if scale < floor:
            scale = floor
        scale *= 1.0 + SMALL_SAMPLE / n
        residual = value - baseline
        z = residual / scale

        learning = self._learning(timestamp_us)
        config = self.config
        p_alarm = score_to_p_value(config.threshold)
        if z >= 0.0:
            tail, excess, side = self._tail_up, self._excess_up, Direction.UP
            wanted = config.direction is not Direction.DOWN
        else:
            tail, excess, side = self._tail_down, self._excess_down, Direction.DOWN
            wanted = config.direction is not Direction.UP
        both = config.direction is Direction.BOTH
        magnitude = abs(z)
        if learning is not None or not wanted:
            p_value = 1.0
        else:
            p_value = tail * math.exp((TAIL_FROM - magnitude) / excess)
            if both:
                p_value *= 2.0
            if p_value > 1.0:
                p_value = 1.0
        score = MAX_SCORE if p_value <= 1e-10 else -10.0 * math.log10(p_value)
        anomalous = learning is None and score >= config.threshold
        onset = anomalous and self._quiet >= QUIET_POINTS
        self._quiet = 0 if anomalous else self._quiet + 1
        share = 0.5 if both else 1.0
        up = TAIL_FROM + self._excess_up * math.log(max(self._tail_up / (p_alarm * share), 1.0))
        down = TAIL_FROM + self._excess_down * math.log(
            max(self._tail_down / (p_alarm * share), 1.0)
        )
        scored = Scored(
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
            state=ModelState.LEARNING
            if learning is not None
            else ModelState.BASIC
            if seasonality is Seasonality.NONE
            else ModelState.SEASONAL,
            model_age_points=n,
            model_age_seconds=(self._last_us - self._first_us) / SECOND_US,
            anomalous=anomalous,
            onset=onset,
            learning=learning,
        )

        # Learn: the tail first (from this point's surprise), then the models.
        if learning is None:
            if z > TAIL_FROM:
                self._tail_up += TAIL_RATE * (1.0 - self._tail_up)
                self._tail_down -= TAIL_RATE * self._tail_down
                self._excess_up += EXCESS_RATE * (
                    min(z - TAIL_FROM, MAX_EXCESS) - self._excess_up
                )
            elif z < -TAIL_FROM:
                self._tail_down += TAIL_RATE * (1.0 - self._tail_down)
                self._tail_up -= TAIL_RATE * self._tail_up
                self._excess_down += EXCESS_RATE * (
                    min(-z - TAIL_FROM, MAX_EXCESS) - self._excess_down
                )
            else:
                self._tail_up -= TAIL_RATE * self._tail_up
                self._tail_down -= TAIL_RATE * self._tail_down

        change = abs(value - self._previous)
        self._previous = value
        if n > 1 and change > 0.0:
            self._resolution += max(1.0 / n, SCALE_RATE) * (change - self._resolution)
        scale_rate = max(1.0 / n, SCALE_RATE)
        level_rate = max(1.0 / n, LEVEL_RATE)
        error_rate = max(1.0 / n, ERROR_RATE)
        widen = 1.0 + SMALL_SAMPLE / n
        # Basic model.
        r = value - level
        self._basic_error += error_rate * (abs(r) - self._basic_error)
        own = self._basic_scale
        sigma = SIGMA_PER_MAD * own
        limit = CLIP * widen * (sigma if sigma > floor else floor)
        rc = limit if r > limit else -limit if r < -limit else r
        self._level = level + level_rate * rc
        self._basic_scale = own + scale_rate * (abs(rc) - own)
        self._run, self._run_sum, jump = _run(self._run, self._run_sum, r, limit)
        self._level += jump
        # Seasonal models: the profile hour learns slowly, the shift fast. During its first
        # cycle a profile learns the shape unclipped: nothing is known to clip against.
        age = timestamp_us - self._first_us
        step = self._step_us
        for profile, pred, slot in ((daily, daily_pred, d_slot), (weekly, weekly_pred, w_slot)):
            # A slot remembers about PROFILE_CYCLES visits' worth of points.
            per_visit = profile.slot_us / step if step > 0.0 else 1.0
            most = int(PROFILE_CYCLES * per_visit) + 1
            r = value - pred
            profile.error += error_rate * (abs(r) - profile.error)
            own = profile.scale
            sigma = SIGMA_PER_MAD * own
            limit = CLIP * widen * (sigma if sigma > floor else floor)
            rc = limit if r > limit else -limit if r < -limit else r
            if age < profile.cycle_us:
                profile.learn(slot, value, r, most)
            else:
                profile.learn(slot, value, rc, most)
                profile.shift += SHIFT_RATE * rc
                profile.run, profile.run_sum, jump = _run(profile.run, profile.run_sum, r, limit)
                profile.shift += jump
            profile.scale = own + scale_rate * (abs(rc) - own)

        return scored

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
        elapsed = timestamp_us - self._first_us
        if n >= MIN_POINTS_EARLY and elapsed >= LEARNING_US:
            return None
        return Learning(
            reason="too little history for a band",
            points_needed=max(MIN_POINTS_EARLY - n, 0) if elapsed >= LEARNING_US
            else MIN_POINTS - n,
            seconds_needed=max(LEARNING_US - elapsed, 0) / SECOND_US,
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
