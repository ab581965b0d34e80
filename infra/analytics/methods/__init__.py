"""The analytics methods: one pure function per kind, a `Grid` (or several) in, a result out.

Each runs synchronously in the calling process; the job runner calls them in worker
processes (they hold no state and import nothing from the app).
"""

from infra.analytics.methods.capacity import capacity
from infra.analytics.methods.change_points import change_points
from infra.analytics.methods.comparison import comparison
from infra.analytics.methods.correlation import correlation
from infra.analytics.methods.forecast import forecast
from infra.analytics.methods.seasonality import seasonality
from infra.analytics.methods.trend import trend

__all__ = [
    "capacity",
    "change_points",
    "comparison",
    "correlation",
    "forecast",
    "seasonality",
    "trend",
]
