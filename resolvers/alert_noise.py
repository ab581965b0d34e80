"""`alertNoise`: the project's noisiest alerts, with suggestions backtested on history."""

from __future__ import annotations

from domain.alerting.queries import GetAlertNoiseQuery
from schema.alerts.noise import AlertNoise
from schema.context import Info

__all__ = ["alert_noise"]


async def alert_noise(info: Info, project: str, first: int = 10, days: int = 7) -> list[AlertNoise]:
    """Noisiest first (firings per day nobody acted on); the first `first` alerts, each with
    its noise figures over the last `days` and changes replayed over that history."""
    found = await info.context.bus.ask(GetAlertNoiseQuery(project, first, days))
    return [AlertNoise.of(dto) for dto in found]
