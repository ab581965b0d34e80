"""DetectorPool: the state of many detectors, a row each; one numpy pass per batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.anomaly.detector import STATE_SCALARS, STATE_VERSION, AnomalyDetector
from domain.anomaly.model import MAX_SCORE, DetectorConfig, score_to_p_value
from domain.anomaly.pool.profiles import ProfileColumns, at_least, runs
from domain.anomaly.pool.scores import (
    AUTO,
    BOTH,
    DAILY,
    DIRECTIONS,
    DOWN,
    NO_SIDE,
    NONE,
    SEASONALITIES,
    UP,
    WEEKLY,
    Bools,
    Floats,
    Ints,
    Scores,
    band_sigmas,
    p_values,
)
from domain.anomaly.profile import DAILY_SLOTS, DAY_US, WEEK_US, WEEKLY_SLOTS
from domain.anomaly.tuning import (
    ABS_FLOOR,
    CLIP,
    ERROR_RATE,
    EXCESS_RATE,
    LEARNING_US,
    LEVEL_RATE,
    MAX_EXCESS,
    MIN_POINTS,
    MIN_POINTS_EARLY,
    QUIET_POINTS,
    REL_FLOOR,
    RESOLUTION_SHARE,
    SCALE_RATE,
    SEASONAL_GAIN,
    SECOND_US,
    SIGMA_PER_MAD,
    SMALL_SAMPLE,
    STEP_RATE,
    TAIL_FROM,
    TAIL_RATE,
)
from domain.columns import grown

__all__ = ["DetectorPool"]

# The state's scalars (AnomalyDetector's), each a column: these as integers, the rest floats.
_INTS = ("n", "first_us", "last_us", "run", "quiet")
_FLOATS = tuple(name for name in STATE_SCALARS if name not in _INTS)


class DetectorPool:
    """The state of many detectors, a row each; rows are taken and given back."""

    def __init__(self, capacity: int = 64) -> None:
        self._capacity = capacity
        self._free: list[int] = list(range(capacity - 1, -1, -1))
        self.configs: list[DetectorConfig | None] = [None] * capacity
        for name in _INTS:
            setattr(self, name, np.zeros(capacity, dtype=np.int64))
        for name in _FLOATS:
            setattr(self, name, np.zeros(capacity))
        self.threshold = np.zeros(capacity)
        self.p_alarm = np.zeros(capacity)
        self.direction = np.zeros(capacity, dtype=np.int8)
        self.wanted = np.zeros(capacity, dtype=np.int8)
        self.daily = ProfileColumns(DAILY_SLOTS, DAY_US, capacity)
        self.weekly = ProfileColumns(WEEKLY_SLOTS, WEEK_US, capacity)

    # The columns, declared for the type checker (made in __init__ by name).
    n: Ints
    first_us: Ints
    last_us: Ints
    run: Ints
    quiet: Ints
    step_us: Floats
    previous: Floats
    resolution: Floats
    level: Floats
    basic_scale: Floats
    basic_error: Floats
    tail_up: Floats
    tail_down: Floats
    excess_up: Floats
    excess_down: Floats
    run_sum: Floats

    def __len__(self) -> int:
        return self._capacity - len(self._free)

    @property
    def capacity(self) -> int:
        """Rows held, taken or free: arrays of the rows are this long."""
        return self._capacity

    def take(self, detector: AnomalyDetector) -> int:
        """A row holding `detector`'s state."""
        if not self._free:
            self._grow(self._capacity * 2)
        row = self._free.pop()
        self.load(row, detector)
        return row

    def give_back(self, row: int) -> None:
        self.configs[row] = None
        self._free.append(row)

    def load(self, row: int, detector: AnomalyDetector) -> None:
        state = detector.to_state()
        for name, value in state["scalars"].items():
            getattr(self, name)[row] = value
        self.daily.load(row, state["daily"])
        self.weekly.load(row, state["weekly"])
        self.configure(row, detector.config)

    def configure(self, row: int, config: DetectorConfig) -> None:
        """The row judges by `config` from its next point; what it learned stays."""
        self.configs[row] = config
        self.threshold[row] = config.threshold
        self.p_alarm[row] = score_to_p_value(config.threshold)
        self.direction[row] = DIRECTIONS.index(config.direction)
        self.wanted[row] = SEASONALITIES.index(config.seasonality)

    def config(self, row: int) -> DetectorConfig:
        config = self.configs[row]
        if config is None:
            raise KeyError(f"row {row} holds no detector")
        return config

    def export(self, row: int) -> AnomalyDetector:
        """The row as an AnomalyDetector (to describe it, or to go on alone)."""
        return AnomalyDetector.from_state(self.states([row])[0])

    def states(self, rows: Sequence[int] | Ints) -> list[dict[str, Any]]:
        """Each row's state as `AnomalyDetector.to_state` gives it (JSON-ready), read
        column by column: the minute's checkpoint of every detector runs on the event loop."""
        at = np.asarray(rows, dtype=np.int64)
        names = (*_INTS, *_FLOATS)
        scalars = zip(*(getattr(self, name)[at].tolist() for name in names), strict=True)
        configs = [self.config(row) for row in at.tolist()]
        daily, weekly = self.daily.states(at), self.weekly.states(at)
        return [
            {
                "version": STATE_VERSION,
                "config": {
                    "sensitivity": config.sensitivity,
                    "direction": config.direction.value,
                    "seasonality": config.seasonality.value,
                },
                "scalars": dict(zip(names, values, strict=True)),
                "daily": day,
                "weekly": week,
            }
            for config, values, day, week in zip(configs, scalars, daily, weekly, strict=True)
        ]

    def _grow(self, capacity: int) -> None:
        old = self._capacity
        for name in (*_INTS, *_FLOATS, "threshold", "p_alarm", "direction", "wanted"):
            setattr(self, name, grown(getattr(self, name), capacity))
        self.daily.grow(capacity)
        self.weekly.grow(capacity)
        self.configs.extend([None] * (capacity - old))
        self._free.extend(range(capacity - 1, old - 1, -1))
        self._capacity = capacity

    def observe(self, rows: Sequence[int] | Ints, ts: Ints, values: Floats) -> Scores:
        """Score point i against row `rows[i]` and learn from it, for every i at once, as
        AnomalyDetector.observe would. A row appears at most once: a batch's second point
        of a series goes in a later call."""
        rows = np.asarray(rows, dtype=np.int64)
        n = self.n[rows]
        last = self.last_us[rows]
        stale = (n > 0) & (ts <= last)
        first = n == 0
        if first.any():
            at = rows[first]
            self.first_us[at] = ts[first]
            self.last_us[at] = ts[first]
            self.level[at] = values[first]
            self.previous[at] = values[first]
        later = ~stale & ~first
        if later.any():
            at = rows[later]
            dt = (ts[later] - last[later]).astype(np.float64)
            step = self.step_us[at]
            self.step_us[at] = np.where(n[later] == 1, dt, step + STEP_RATE * (dt - step))
            self.last_us[at] = ts[later]
        n = n + ~stale
        self.n[rows] = n

        level = self.level[rows]
        daily, weekly = self.daily, self.weekly
        d_slot = daily.slot(ts)
        w_slot = weekly.slot(ts)
        daily_pred = daily.offsets[rows, d_slot] + daily.shift[rows]
        weekly_pred = weekly.offsets[rows, w_slot] + weekly.shift[rows]
        daily_pred = np.where(np.isnan(daily_pred), level, daily_pred)
        weekly_pred = np.where(np.isnan(weekly_pred), daily_pred, weekly_pred)

        first_us = self.first_us[rows]
        seasonality = self._choose(rows, ts - first_us)
        baseline = np.where(
            seasonality == DAILY,
            daily_pred,
            np.where(seasonality == WEEKLY, weekly_pred, level),
        )
        mad = np.where(
            seasonality == DAILY,
            daily.scale[rows],
            np.where(seasonality == WEEKLY, weekly.scale[rows], self.basic_scale[rows]),
        )
        sigma = SIGMA_PER_MAD * mad
        floor = ABS_FLOOR + REL_FLOOR * np.abs(baseline)
        floor = at_least(RESOLUTION_SHARE * self.resolution[rows], floor)
        widen = 1.0 + SMALL_SAMPLE / np.maximum(n, 1)
        scale = at_least(sigma, floor) * widen
        z = (values - baseline) / scale
        elapsed = np.maximum(ts - first_us, 0)
        learning = (n < MIN_POINTS) & ~((n >= MIN_POINTS_EARLY) & (elapsed >= LEARNING_US))
        scores = self._score(rows, baseline, scale, z, seasonality, learning, n)
        learn = ~stale
        if not learn.all():
            keep = np.flatnonzero(learn)
            rows, ts, values, n = rows[keep], ts[keep], values[keep], n[keep]
            level, z, floor, widen = level[keep], z[keep], floor[keep], widen[keep]
            learning, anomalous = learning[keep], scores.anomalous[keep]
            d_slot, w_slot = d_slot[keep], w_slot[keep]
            daily_pred, weekly_pred = daily_pred[keep], weekly_pred[keep]
        else:
            anomalous = scores.anomalous
        if not len(rows):
            return scores
        self.quiet[rows] = np.where(anomalous, 0, self.quiet[rows] + 1)
        self._learn_tail(rows[~learning], z[~learning])

        # Learn: the basic level, then both profiles, each judged by its own scale.
        previous = self.previous[rows]
        change = np.abs(values - previous)
        self.previous[rows] = values
        resolution = self.resolution[rows]
        scale_rate = np.maximum(1.0 / n, SCALE_RATE)
        error_rate = np.maximum(1.0 / n, ERROR_RATE)
        resolution = np.where(
            change > 0.0,
            np.where(
                resolution == 0.0,
                change,
                resolution + scale_rate * (change - resolution),
            ),
            resolution,
        )
        self.resolution[rows] = resolution
        r = values - level
        error = self.basic_error[rows]
        self.basic_error[rows] = error + error_rate * (np.abs(r) - error)
        own = self.basic_scale[rows]
        limit = CLIP * widen * at_least(SIGMA_PER_MAD * own, floor)
        rc = np.minimum(np.maximum(r, -limit), limit)
        moved = level + np.maximum(1.0 / n, LEVEL_RATE) * rc
        self.basic_scale[rows] = own + scale_rate * (np.abs(rc) - own)
        run, run_sum, jump = runs(self.run[rows], self.run_sum[rows], r, limit)
        self.run[rows] = run
        self.run_sum[rows] = run_sum
        self.level[rows] = moved + jump
        age = ts - self.first_us[rows]
        step = self.step_us[rows]
        rates = (error_rate, scale_rate)
        daily.learn(rows, d_slot, values, daily_pred, floor, widen, rates, step, age)
        weekly.learn(rows, w_slot, values, weekly_pred, floor, widen, rates, step, age)
        return scores

    def _choose(self, rows: Ints, age: Ints) -> npt.NDArray[np.int8]:
        wanted = self.wanted[rows]
        basic = self.basic_error[rows]
        daily_error = self.daily.error[rows]
        auto_daily = (age >= 2 * DAY_US) & (daily_error < SEASONAL_GAIN * basic)
        best_error = np.where(auto_daily, daily_error, basic)
        auto_weekly = (age >= 2 * WEEK_US) & (self.weekly.error[rows] < SEASONAL_GAIN * best_error)
        auto = np.where(auto_weekly, WEEKLY, np.where(auto_daily, DAILY, NONE))
        chosen = np.where(
            wanted == AUTO,
            auto,
            np.where(
                (wanted == DAILY) & (age >= DAY_US),
                DAILY,
                np.where((wanted == WEEKLY) & (age >= WEEK_US), WEEKLY, NONE),
            ),
        )
        return chosen.astype(np.int8)

    def _score(
        self,
        rows: Ints,
        baseline: Floats,
        scale: Floats,
        z: Floats,
        seasonality: npt.NDArray[np.int8],
        learning: Bools,
        n: Ints,
    ) -> Scores:
        direction = self.direction[rows]
        both = direction == BOTH
        tail_up, tail_down = self.tail_up[rows], self.tail_down[rows]
        excess_up, excess_down = self.excess_up[rows], self.excess_down[rows]
        upward = z >= 0.0
        tail = np.where(upward, tail_up, tail_down)
        excess = np.where(upward, excess_up, excess_down)
        wanted = np.where(upward, direction != DOWN, direction != UP)
        p_value = p_values(np.abs(z), tail, excess, both)
        p_value = np.where(learning | ~wanted, 1.0, p_value)
        with np.errstate(divide="ignore"):
            score = np.where(p_value <= 1e-10, MAX_SCORE, -10.0 * np.log10(p_value))
        anomalous = ~learning & (score >= self.threshold[rows])
        allowed = self.p_alarm[rows] * np.where(both, 0.5, 1.0)
        up = band_sigmas(tail_up, excess_up, allowed)
        down = band_sigmas(tail_down, excess_down, allowed)
        side = np.where(anomalous, np.where(upward, UP, DOWN), NO_SIDE).astype(np.int8)
        return Scores(
            baseline=baseline,
            lower=baseline - down * scale,
            upper=baseline + up * scale,
            score=score,
            p_value=p_value,
            deviations=z,
            side=side,
            seasonality=seasonality,
            learning=learning,
            anomalous=anomalous,
            onset=anomalous & (self.quiet[rows] >= QUIET_POINTS),
            age_points=n,
            age_seconds=(self.last_us[rows] - self.first_us[rows]) / SECOND_US,
        )

    def _learn_tail(self, rows: Ints, z: Floats) -> None:
        up, down = self.tail_up[rows], self.tail_down[rows]
        excess_up, excess_down = self.excess_up[rows], self.excess_down[rows]
        high = z > TAIL_FROM
        low = z < -TAIL_FROM
        self.tail_up[rows] = np.where(high, up + TAIL_RATE * (1.0 - up), up - TAIL_RATE * up)
        self.tail_down[rows] = np.where(
            low, down + TAIL_RATE * (1.0 - down), down - TAIL_RATE * down
        )
        self.excess_up[rows] = np.where(
            high,
            excess_up + EXCESS_RATE * (np.minimum(z - TAIL_FROM, MAX_EXCESS) - excess_up),
            excess_up,
        )
        self.excess_down[rows] = np.where(
            low,
            excess_down + EXCESS_RATE * (np.minimum(-z - TAIL_FROM, MAX_EXCESS) - excess_down),
            excess_down,
        )
