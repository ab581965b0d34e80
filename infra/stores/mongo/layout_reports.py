"""Layout 13: the indexes of reports, their runs and their files (a GridFS bucket)
(infra/stores/mongo/reports.py). Frozen, as every step of migrations.py: REPORT_INDEXES in
reports.py is the current layout and may move on; what layout 13 was does not."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING

__all__ = ["REPORTS"]

REPORTS: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    "reports": [([("project", ASCENDING), ("created_at_us", ASCENDING), ("id", ASCENDING)], {})],
    "report_runs": [
        ([("project", ASCENDING), ("report_id", ASCENDING), ("started_us", DESCENDING)], {})
    ],
    "report_files.files": [
        ([("metadata.project", ASCENDING), ("metadata.run_id", ASCENDING)], {}),
        ([("filename", ASCENDING), ("uploadDate", ASCENDING)], {}),
    ],
    "report_files.chunks": [([("files_id", ASCENDING), ("n", ASCENDING)], {"unique": True})],
}
