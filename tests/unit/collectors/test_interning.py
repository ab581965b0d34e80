"""Series interning: each key's series made once, and a request's series listed once each,
in the order np.unique gives, whatever the spread of their ids."""

from __future__ import annotations

import numpy as np
import pytest

from infra.collectors import scan
from infra.collectors.decoded import DecodedSeries
from infra.collectors.interning import SeriesInterner, _distinct

RNG = np.random.default_rng(16)


@pytest.mark.parametrize(
    "gids",
    [
        np.tile(np.arange(1_000), 5),  # a bulk request: narrow range, the table
        RNG.integers(0, 10, 7),
        RNG.integers(500, 700, 5_000),
        RNG.integers(0, 100_000, 50),  # ids far apart: np.unique itself
        np.array([5]),
        np.array([3, 3, 3]),
        np.array([], dtype=np.int64),
    ],
)
def test_distinct_answers_as_numpy_unique(gids: np.ndarray) -> None:
    gids = gids.astype(np.int64)
    unique, inverse = _distinct(gids)
    expected_unique, expected_inverse = np.unique(gids, return_inverse=True)
    assert unique.tolist() == expected_unique.tolist()
    assert inverse.tolist() == expected_inverse.tolist()
    assert inverse.dtype == np.int64


@pytest.fixture(params=["compiled", "python"])
def lookup_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both lookups: the compiled one (lists of keys) and the Python one."""
    if request.param == "python":
        monkeypatch.setattr(scan, "compiled", None)
    elif scan.compiled is None:
        pytest.skip("the compiled scanners are not built on this machine")
    return str(request.param)


@pytest.mark.usefixtures("lookup_path")
def test_a_series_is_made_once_and_indexed_per_key() -> None:
    made: list[str] = []

    def make(key: object) -> DecodedSeries:
        made.append(str(key))
        return DecodedSeries(name=str(key), tags={}, type="gauge")

    interner = SeriesInterner()
    series, index = interner.index(["b", "a", "b", "c"], make)
    again, index_again = interner.index(["c", "a"], make)

    assert made == ["b", "a", "c"]
    assert [series[i].name for i in index.tolist()] == ["b", "a", "b", "c"]
    assert [again[i].name for i in index_again.tolist()] == ["c", "a"]
    # The same objects come back for keys seen before (listed in interning order).
    assert [s.name for s in again] == ["a", "c"]
    assert again[0] is series[1] and again[1] is series[2]


@pytest.mark.usefixtures("lookup_path")
def test_keys_of_any_hashable_kind_and_a_failing_make_records_nothing() -> None:
    def make(key: object) -> DecodedSeries:
        if key == (b"bad",):
            raise ValueError("bad key")
        return DecodedSeries(name=repr(key), tags={}, type="gauge")

    interner = SeriesInterner()
    series, index = interner.index([(b"x", 1), b"y", (b"x", 1)], make)
    assert [series[i].name for i in index.tolist()] == ["(b'x', 1)", "b'y'", "(b'x', 1)"]
    with pytest.raises(ValueError):
        interner.index([b"z", (b"bad",)], make)
    assert len(interner) == 3  # b"z" was made before the bad key; nothing after it
    series, index = interner.index((b"y", b"z"), make)  # a tuple of keys: not the list path
    assert [series[i].name for i in index.tolist()] == ["b'y'", "b'z'"]
