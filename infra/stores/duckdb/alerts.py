"""AlertStore on DuckDB: alerts, instance states and transitions in the same file.

Every write is one transaction on the writer thread, so a compare-and-set or a lease is
decided by one statement seen by no other writer in between (this object is the file's
only writer: DuckDBDatabase). Entities are kept as the JSON text of their `to_dict()`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import suppress
from typing import Any, ParamSpec, TypeVar

import duckdb
import orjson

from domain.alerting.alert import Alert
from domain.alerting.model import InstanceKey, Transition
from domain.alerting.state import InstanceState
from infra.stores.duckdb.runner import Cursor, Runner, transaction

__all__ = ["DuckDBAlertStore"]

P = ParamSpec("P")
T = TypeVar("T")

_COLUMNS = "(id, project, enabled, created_at_us, version, doc)"
_VALUES = "($id, $project, $enabled, $created_at_us, $version, $doc)"
# Replaces only an alert of the same project: another project's id is not overwritten.
_UPSERT = f"""
    INSERT INTO alerts {_COLUMNS} VALUES {_VALUES}
    ON CONFLICT (id) DO UPDATE SET
        enabled = excluded.enabled, created_at_us = excluded.created_at_us,
        version = excluded.version, doc = excluded.doc
    WHERE alerts.project = excluded.project
    RETURNING id
"""
# A new id (createAlert) is a plain insert, twice as fast as the upsert on DuckDB 2.0.
_INSERT = f"INSERT INTO alerts {_COLUMNS} VALUES {_VALUES}"
_COMPARE_AND_SET = """
    UPDATE alerts SET
        enabled = $enabled, created_at_us = $created_at_us, version = $version, doc = $doc
    WHERE id = $id AND project = $project AND version = $expected
    RETURNING id
"""
_SAVE_INSTANCES = """
    INSERT INTO alert_instances (alert_id, key, state)
    SELECT $alert_id, unnest($keys::VARCHAR[]), unnest($states::VARCHAR[])
    ON CONFLICT (alert_id, key) DO UPDATE SET state = excluded.state
"""
# Rows that exist are updated (a third cheaper than the upsert on DuckDB 2.0, and most
# saves replace a stored state); the upsert then adds the ones it did not find.
_UPDATE_MANY_INSTANCES = """
    UPDATE alert_instances SET state = given.state
    FROM (
        SELECT unnest($alert_ids::VARCHAR[]) AS alert_id, unnest($keys::VARCHAR[]) AS key,
            unnest($states::VARCHAR[]) AS state
    ) AS given
    WHERE alert_instances.alert_id = given.alert_id AND alert_instances.key = given.key
    RETURNING alert_instances.alert_id, alert_instances.key
"""
_SAVE_MANY_INSTANCES = """
    INSERT INTO alert_instances (alert_id, key, state)
    SELECT unnest($alert_ids::VARCHAR[]), unnest($keys::VARCHAR[]), unnest($states::VARCHAR[])
    ON CONFLICT (alert_id, key) DO UPDATE SET state = excluded.state
"""
_APPEND_MANY_TRANSITIONS = """
    INSERT INTO alert_transitions (seq, n, alert_id, at_us, doc)
    SELECT $seq, unnest($ns::INTEGER[]), unnest($alert_ids::VARCHAR[]),
        unnest($ats::BIGINT[]), unnest($docs::VARCHAR[])
"""
_APPEND_TRANSITIONS = """
    INSERT INTO alert_transitions (seq, n, alert_id, at_us, doc)
    SELECT $seq, unnest($ns::INTEGER[]), $alert_id, unnest($ats::BIGINT[]),
        unnest($docs::VARCHAR[])
"""


class DuckDBAlertStore:
    """The AlertStore port (domain.alerting.ports) on the embedded store."""

    def __init__(self, runner: Runner) -> None:
        self._run = runner

    # -- alerts ------------------------------------------------------------------------------

    async def save_alert(self, alert: Alert, *, expected_version: int | None = None) -> bool:
        if expected_version is None and alert.version == 1:
            with suppress(duckdb.ConstraintException):  # the id exists: the upsert decides
                return await self._run.write(_insert_alert, alert)
        return await self._run.write(_save_alert, alert, expected_version)

    async def get_alert(self, project: str, alert_id: str) -> Alert | None:
        return await self._run.read(_get_alert, project, alert_id)

    async def list_alerts(
        self, project: str, *, after: str | None = None, first: int | None = None
    ) -> list[Alert]:
        where, params = "WHERE project = $project", {"project": project}
        if after is not None:
            where += (
                " AND (created_at_us, id) > (SELECT (created_at_us, id) FROM alerts"
                " WHERE id = $after AND project = $project)"
            )
            params["after"] = after
        if first is not None:
            where += f" ORDER BY created_at_us, id LIMIT {int(first)}"
        return await self._run.read(_alerts, where, params)

    async def enabled_alerts(self) -> list[Alert]:
        return await self._run.read(_alerts, "WHERE enabled", {})

    async def delete_alert(self, project: str, alert_id: str) -> bool:
        return await self._run.write(_delete_alert, project, alert_id)

    # -- instances and transitions -----------------------------------------------------------

    async def save_instances(self, alert_id: str, states: list[InstanceState]) -> None:
        if not states:
            return
        # One row per key, the last state given winning: an ON CONFLICT DO UPDATE may not
        # touch the same row twice in one statement.
        latest = {_key_text(state.key): state for state in states}
        await self._run.write(_save_instances, alert_id, latest)

    async def load_instances(self, alert_id: str) -> list[InstanceState]:
        return await self._run.read(_load_instances, alert_id)

    async def append_transitions(self, alert_id: str, transitions: list[Transition]) -> None:
        if transitions:
            await self._run.write(_append_transitions, alert_id, transitions)

    async def save_changes(
        self, changes: Mapping[str, tuple[list[InstanceState], list[Transition]]]
    ) -> None:
        if any(states or transitions for states, transitions in changes.values()):
            await self._run.write(_save_changes, dict(changes))

    async def list_transitions(
        self, project: str, alert_id: str, *, first: int = 100, before_us: int | None = None
    ) -> list[Transition]:
        if first <= 0:
            return []
        return await self._run.read(_list_transitions, project, alert_id, first, before_us)


def _dumps(data: Any) -> str:
    # orjson: a checkpoint encodes every instance state (10,000 in the alerts benchmark)
    # on the writer thread, ~4x faster than json.dumps; json.loads reads it back the same.
    return orjson.dumps(data).decode()


def _key_text(key: InstanceKey) -> str:
    return _dumps(list(key))


def _insert_alert(cur: Cursor, alert: Alert) -> bool:
    cur.execute(_INSERT, _alert_params(alert))
    return True


@transaction
def _save_alert(cur: Cursor, alert: Alert, expected_version: int | None) -> bool:
    params = _alert_params(alert)
    if expected_version is None:
        return bool(cur.execute(_UPSERT, params).fetchall())
    params["expected"] = expected_version
    return bool(cur.execute(_COMPARE_AND_SET, params).fetchall())


def _alert_params(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "project": alert.project,
        "enabled": alert.enabled,
        "created_at_us": alert.created_at_us,
        "version": alert.version,
        "doc": _dumps(alert.to_dict()),
    }


def _get_alert(cur: Cursor, project: str, alert_id: str) -> Alert | None:
    rows = cur.execute(
        "SELECT doc FROM alerts WHERE id = $id AND project = $project",
        {"id": alert_id, "project": project},
    ).fetchall()
    return Alert.from_dict(json.loads(rows[0][0])) if rows else None


def _alerts(cur: Cursor, where: str, params: dict[str, Any]) -> list[Alert]:
    order = "" if "ORDER BY" in where else " ORDER BY created_at_us, id"
    rows = cur.execute(f"SELECT doc FROM alerts {where}{order}", params).fetchall()
    return [Alert.from_dict(json.loads(doc)) for (doc,) in rows]


@transaction
def _delete_alert(cur: Cursor, project: str, alert_id: str) -> bool:
    params = {"id": alert_id, "project": project}
    if not cur.execute(
        "DELETE FROM alerts WHERE id = $id AND project = $project RETURNING id", params
    ).fetchall():
        return False
    cur.execute("DELETE FROM alert_instances WHERE alert_id = $id", {"id": alert_id})
    cur.execute("DELETE FROM alert_transitions WHERE alert_id = $id", {"id": alert_id})
    return True


@transaction
def _save_instances(cur: Cursor, alert_id: str, latest: dict[str, InstanceState]) -> None:
    cur.execute(
        _SAVE_INSTANCES,
        {
            "alert_id": alert_id,
            "keys": list(latest),
            "states": [_dumps(state.to_dict()) for state in latest.values()],
        },
    )


@transaction
def _save_changes(
    cur: Cursor, changes: dict[str, tuple[list[InstanceState], list[Transition]]]
) -> None:
    """Every alert's states and transitions in one transaction, encoded here on the
    writer thread (10,000 states at a checkpoint would stall the event loop). The
    transitions share one `seq`; `n` follows the order given, per alert too."""
    texts = {  # one row per key, the last state given winning, as save_instances
        (alert_id, _key_text(state.key)): _dumps(state.to_dict())
        for alert_id, (states, _) in changes.items()
        for state in states
    }
    recorded = [(alert_id, t) for alert_id, (_, ts) in changes.items() for t in ts]
    if texts:
        found = cur.execute(_UPDATE_MANY_INSTANCES, _instance_rows(texts)).fetchall()
        for row in found:
            texts.pop(row, None)
        if texts:
            cur.execute(_SAVE_MANY_INSTANCES, _instance_rows(texts))
    if recorded:
        ((seq,),) = cur.execute("SELECT nextval('alert_transition_seq')").fetchall()
        cur.execute(
            _APPEND_MANY_TRANSITIONS,
            {
                "seq": seq,
                "ns": list(range(len(recorded))),
                "alert_ids": [alert_id for alert_id, _ in recorded],
                "ats": [t.at_us for _, t in recorded],
                "docs": [_dumps(t.to_dict()) for _, t in recorded],
            },
        )


def _instance_rows(texts: dict[tuple[str, str], str]) -> dict[str, list[str]]:
    return {
        "alert_ids": [alert_id for alert_id, _ in texts],
        "keys": [key for _, key in texts],
        "states": list(texts.values()),
    }


def _load_instances(cur: Cursor, alert_id: str) -> list[InstanceState]:
    rows = cur.execute(
        "SELECT state FROM alert_instances WHERE alert_id = $id ORDER BY key", {"id": alert_id}
    ).fetchall()
    return [InstanceState.from_dict(json.loads(state)) for (state,) in rows]


@transaction
def _append_transitions(cur: Cursor, alert_id: str, transitions: list[Transition]) -> None:
    ((seq,),) = cur.execute("SELECT nextval('alert_transition_seq')").fetchall()
    cur.execute(
        _APPEND_TRANSITIONS,
        {
            "seq": seq,
            "ns": list(range(len(transitions))),
            "alert_id": alert_id,
            "ats": [t.at_us for t in transitions],
            "docs": [_dumps(t.to_dict()) for t in transitions],
        },
    )


def _list_transitions(
    cur: Cursor, project: str, alert_id: str, first: int, before_us: int | None
) -> list[Transition]:
    """Newest first; of transitions at the same microsecond, the last recorded first."""
    params: dict[str, Any] = {"id": alert_id, "project": project, "limit": first}
    before = ""
    if before_us is not None:
        before = "AND at_us < $before"
        params["before"] = before_us
    rows = cur.execute(
        f"""
        SELECT doc FROM alert_transitions
        WHERE alert_id = $id {before}
            AND EXISTS (SELECT 1 FROM alerts WHERE id = $id AND project = $project)
        ORDER BY at_us DESC, seq DESC, n DESC
        LIMIT $limit
        """,
        params,
    ).fetchall()
    return [Transition.from_dict(json.loads(doc)) for (doc,) in rows]
