"""Frozen index sets of MongoDB layout steps (migrations.py applies them in order).

The current indexes live in schema.py and each store module, and may move on; what a
layout was does not: a change takes a new step.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING

__all__ = [
    "ANALYTICS_JOBS",
    "DASHBOARDS_AND_NOTIFICATIONS",
    "METRIC_DESCRIPTIONS",
    "REPORT_SLOTS",
    "IndexSpec",
]

IndexSpec = tuple[list[tuple[str, int]], dict[str, Any]]

# Layout 2: dashboards (decision 0008) and notifications (decision 0009). Frozen: the
# current indexes live in schema.py and may move on; what layout 2 was does not.
DASHBOARDS_AND_NOTIFICATIONS: dict[str, list[IndexSpec]] = {
    "dashboards": [([("project", ASCENDING), ("created_at_us", ASCENDING), ("id", ASCENDING)], {})],
    "dashboard_versions": [
        ([("project", ASCENDING), ("id", ASCENDING), ("version", DESCENDING)], {})
    ],
    "notification_channels": [
        ([("project", ASCENDING), ("created_at_us", ASCENDING), ("_id", ASCENDING)], {})
    ],
    "notification_silences": [([("project", ASCENDING), ("created_us", DESCENDING)], {})],
    "notification_deliveries": [
        ([("state", ASCENDING), ("next_attempt_us", ASCENDING)], {}),
        ([("project", ASCENDING), ("created_us", DESCENDING)], {}),
    ],
}

# Layout 3: metric descriptions (issue 16). Frozen, as above.
METRIC_DESCRIPTIONS: dict[str, list[IndexSpec]] = {
    "metric_descriptions": [([("p", ASCENDING), ("n", ASCENDING)], {"unique": True})],
}

# Layout 4: analytics jobs and their result items (infra/stores/mongo/analytics.py).
ANALYTICS_JOBS: dict[str, list[IndexSpec]] = {
    "analytics_jobs": [
        ([("project", ASCENDING), ("created_us", DESCENDING), ("_id", DESCENDING)], {}),
        ([("state", ASCENDING), ("created_us", ASCENDING)], {}),
        ([("expires_us", ASCENDING)], {}),
    ],
    "analytics_results": [
        ([("job_id", ASCENDING), ("attempt", ASCENDING), ("seq", ASCENDING)], {})
    ],
}

# Layout 14: the slots report schedules claimed (infra/stores/mongo/report_slots.py).
REPORT_SLOTS: dict[str, list[IndexSpec]] = {
    "report_slots": [
        ([("project", ASCENDING), ("report_id", ASCENDING), ("slot_us", DESCENDING)], {}),
        ([("finished_us", ASCENDING), ("claim_until_us", ASCENDING)], {}),
    ],
}
