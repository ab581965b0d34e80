"""Overlay fits are shared: viewers asking at once share one fit, a fit is kept until the
range reaches a new bucket, and a failed fit is asked again."""

from __future__ import annotations

import asyncio

import pytest

from domain.analytics.read_models import AnalysisResult
from domain.analytics.results import AnalyticsKind
from domain.dashboards.overlays import OverlayCache


class Fits:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.fail = False

    async def __call__(self) -> AnalysisResult:
        self.calls += 1
        await self.release.wait()
        if self.fail:
            raise RuntimeError("worker died")
        return AnalysisResult(AnalyticsKind.FORECAST, [{"n": self.calls}], 1)


async def test_callers_at_once_share_one_fit() -> None:
    cache, fits = OverlayCache(), Fits()
    waiting = [asyncio.create_task(cache.fit(("demo", 1), fits)) for _ in range(5)]
    await asyncio.sleep(0)
    fits.release.set()
    answers = await asyncio.gather(*waiting)
    assert fits.calls == 1 and {a.items[0]["n"] for a in answers} == {1}
    assert (await cache.fit(("demo", 1), fits)).items == [{"n": 1}]  # kept
    assert (await cache.fit(("demo", 2), fits)).items == [{"n": 2}]  # a new bucket: a new fit


async def test_a_failed_fit_is_not_kept() -> None:
    cache, fits = OverlayCache(), Fits()
    fits.fail = True
    fits.release.set()
    with pytest.raises(RuntimeError):
        await cache.fit("k", fits)
    fits.fail = False
    assert (await cache.fit("k", fits)).items == [{"n": 2}]


async def test_the_oldest_fits_make_room() -> None:
    cache, fits = OverlayCache(size=2), Fits()
    fits.release.set()
    for key in ("a", "b", "c"):
        await cache.fit(key, fits)
    await cache.fit("a", fits)
    assert fits.calls == 4  # "a" was dropped for "c"
