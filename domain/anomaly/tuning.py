"""The detector's constants, one set for every series (never tuned per series), and why."""

from __future__ import annotations

__all__: list[str] = []  # constants are imported by name by the detector

SECOND_US = 1_000_000

# LEARNING ends after MIN_POINTS points, or after MIN_POINTS_EARLY once LEARNING_US has
# passed (a series sending every 5 minutes has a band after 15 minutes, with 3-4 points).
MIN_POINTS = 10
MIN_POINTS_EARLY = 3
LEARNING_US = 15 * 60 * SECOND_US
SMALL_SAMPLE = 3.0  # the band is (1 + SMALL_SAMPLE / n) wider on short histories

LEVEL_RATE = 0.1  # basic level: follows the series within ~10 points
SHIFT_RATE = 0.02  # seasonal models' level: follows a day running high within ~50 points
SCALE_RATE = 0.003  # scales: ~300 points of memory (shorter memories measured worse on NAB)
ERROR_RATE = 0.005  # the one-step errors that choose between models: ~200 points
STEP_RATE = 0.05  # the sampling interval estimate
PROFILE_CYCLES = 2.0  # a profile slot remembers about two visits (days or weeks)
SEASONAL_GAIN = 0.8  # a profile is used when it cuts the one-step error by 20% or more

SIGMA_PER_MAD = 1.2533  # sigma / mean absolute deviation, for a normal distribution
CLIP = 2.4  # residuals beyond CLIP sigmas move a model only as far as CLIP sigmas
SHIFT_RUN = 6  # SHIFT_RUN points in a row beyond CLIP on one side: a new level

# The tail: how often |z| passes TAIL_FROM and by how much (exponential excesses, the
# peaks-over-threshold model of extreme value theory) give each point's p-value. Learned per
# series, so a spiky series needs larger deviations than a quiet one for the same score.
TAIL_FROM = 2.4
TAIL_RATE = 0.002  # ~500 points of memory for how often the tail is reached
EXCESS_RATE = 0.005  # ~200 exceedances of memory for how far beyond it points go
PRIOR_TAIL = 0.0082  # a normal distribution's one-sided P(z > 2.4)
PRIOR_EXCESS = 0.35  # its mean excess beyond 2.4 (0.34), rounded up
# ~500 points of memory cannot tell a tail rarer than one point in 1,000.
TAIL_FLOOR = 0.001
MAX_EXCESS = 16.0  # one huge point moves the tail model as much as an 18-sigma one

# Scale floors: a flat series still has a scale, so its scores stay finite.
ABS_FLOOR = 1e-9
REL_FLOOR = 1e-4  # 0.01% of the baseline
# Counts and other stepped series: sigma is at least 0.6 of their typical non-zero step, or
# a series of zeros and ones would call every one infinitely surprising.
RESOLUTION_SHARE = 0.6

QUIET_POINTS = 12  # an episode (one notification's worth) ends after 12 unflagged points
