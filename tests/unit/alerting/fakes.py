"""An in-memory AlertStore following the port's contract (domain/alerting/ports.py)."""

from __future__ import annotations

from collections.abc import Mapping

from domain.alerting import Alert, InstanceKey, InstanceState, Transition

__all__ = ["FakeAlertStore"]


class FakeAlertStore:
    def __init__(self) -> None:
        self.alerts: dict[str, Alert] = {}
        self.instances: dict[str, dict[InstanceKey, InstanceState]] = {}
        self.transitions: dict[str, list[Transition]] = {}
        self.leases: dict[str, tuple[str, int]] = {}
        self.fail_writes: Exception | None = None
        self.writes = 0  # save_instances, append_transitions and save_changes calls
        self.batches = 0  # save_changes calls that wrote

    async def save_alert(self, alert: Alert, *, expected_version: int | None = None) -> bool:
        stored = self.alerts.get(alert.id)
        if stored is not None and stored.project != alert.project:
            return False
        if expected_version is not None and (stored is None or stored.version != expected_version):
            return False
        self.alerts[alert.id] = alert
        return True

    async def get_alert(self, project: str, alert_id: str) -> Alert | None:
        alert = self.alerts.get(alert_id)
        return alert if alert is not None and alert.project == project else None

    async def list_alerts(
        self, project: str, *, after: str | None = None, first: int | None = None
    ) -> list[Alert]:
        found = sorted(
            (a for a in self.alerts.values() if a.project == project),
            key=lambda a: (a.created_at_us, a.id),
        )
        if after is not None:
            ids = [a.id for a in found]
            found = found[ids.index(after) + 1 :] if after in ids else []
        return found if first is None else found[:first]

    async def enabled_alerts(self) -> list[Alert]:
        return [a for a in self.alerts.values() if a.enabled]

    async def delete_alert(self, project: str, alert_id: str) -> bool:
        if await self.get_alert(project, alert_id) is None:
            return False
        del self.alerts[alert_id]
        self.instances.pop(alert_id, None)
        self.transitions.pop(alert_id, None)
        return True

    async def save_instances(self, alert_id: str, states: list[InstanceState]) -> None:
        self._write()
        self.instances.setdefault(alert_id, {}).update({s.key: s for s in states})

    async def load_instances(self, alert_id: str) -> list[InstanceState]:
        return list(self.instances.get(alert_id, {}).values())

    async def append_transitions(self, alert_id: str, transitions: list[Transition]) -> None:
        self._write()
        self.transitions.setdefault(alert_id, []).extend(transitions)

    async def save_changes(
        self, changes: Mapping[str, tuple[list[InstanceState], list[Transition]]]
    ) -> None:
        self._write()
        self.batches += 1
        for alert_id, (states, transitions) in changes.items():
            self.instances.setdefault(alert_id, {}).update({s.key: s for s in states})
            self.transitions.setdefault(alert_id, []).extend(transitions)

    async def list_transitions(
        self, project: str, alert_id: str, *, first: int = 100, before_us: int | None = None
    ) -> list[Transition]:
        if await self.get_alert(project, alert_id) is None:
            return []
        newest = list(reversed(self.transitions.get(alert_id, [])))
        return [t for t in newest if before_us is None or t.at_us < before_us][:first]

    async def acquire_lease(self, name: str, owner: str, *, now_us: int, ttl_us: int) -> bool:
        holder = self.leases.get(name)
        if holder is not None and holder[0] != owner and holder[1] > now_us:
            return False
        self.leases[name] = (owner, now_us + ttl_us)
        return True

    async def release_lease(self, name: str, owner: str) -> None:
        if self.leases.get(name, ("", 0))[0] == owner:
            del self.leases[name]

    def _write(self) -> None:
        if self.fail_writes is not None:
            raise self.fail_writes
        self.writes += 1
