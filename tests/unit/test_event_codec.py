"""The event codec: every event crosses the bus as its message and comes back equal."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import orjson
import pytest

from domain.events import Event, UnknownEvent, event_types, from_message, to_message
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.ingest.batch import BatchArrays
from infra.bootstrap.routing import EVENT_HANDLERS


def sample(kind: type[Event]) -> Event:
    """An instance with a distinct JSON value in every field."""
    values: dict[str, Any] = {}
    for n, f in enumerate(dataclasses.fields(kind)):  # type: ignore[arg-type]
        if f.metadata.get("in_process_only"):
            continue  # not JSON: never in a message
        hint = str(f.type)
        if "dict" in hint:
            values[f.name] = {"k": str(n)}
        elif "list" in hint:
            values[f.name] = [n]
        elif "bool" in hint:
            values[f.name] = True
        elif "float" in hint:
            values[f.name] = n + 0.5
        elif "int" in hint:
            values[f.name] = n
        else:
            values[f.name] = f"v{n}"
    return kind(**values)


@pytest.mark.parametrize("kind", sorted(EVENT_HANDLERS, key=lambda k: k.__name__))
def test_every_routed_event_round_trips_through_json(kind: type[Event]) -> None:
    event = sample(kind)
    message = orjson.loads(orjson.dumps(to_message(event)))
    assert message["type"] == kind.__name__
    assert from_message(message) == event
    assert event_types()[kind.__name__] is kind


def test_the_channel_is_the_topic_and_the_project() -> None:
    for kind in EVENT_HANDLERS:
        event = sample(kind)
        assert event.channel() == kind.channel_for(getattr(event, "project"))  # noqa: B009
        assert event.channel().startswith(f"{kind.TOPIC}.")


def test_an_unknown_type_or_a_missing_field_is_refused() -> None:
    with pytest.raises(UnknownEvent, match="no event type 'NoSuchEvent'"):
        from_message({"type": "NoSuchEvent"})
    kind = next(iter(EVENT_HANDLERS))
    message = to_message(sample(kind))
    del message[dataclasses.fields(kind)[0].name]  # type: ignore[arg-type]
    with pytest.raises(UnknownEvent, match="lacks"):
        from_message(message)


def test_extra_keys_such_as_the_origin_are_ignored() -> None:
    kind = next(iter(EVENT_HANDLERS))
    event = sample(kind)
    assert from_message(to_message(event) | {"origin": "vigil-2"}) == event


def test_two_event_classes_may_not_share_a_name() -> None:
    with pytest.raises(TypeError, match="names must be unique"):
        type("MetricCollectedEvent", (Event,), {"__module__": "elsewhere"})


def test_a_batchs_arrays_stay_in_the_process() -> None:
    arrays = BatchArrays(np.array([0, 1, 0]), np.array([5, 6, 7]), np.array([1.0, 2.0, 3.0]))
    lists = {"series_index": [0, 1, 0], "timestamps_us": [5, 6, 7], "values": [1.0, 2.0, 3.0]}
    series = [{"id": 1}, {"id": 2}]
    with_arrays = MetricCollectedEvent(project="p", series=series, arrays=arrays, **lists)
    message = to_message(with_arrays)
    assert "arrays" not in message
    assert with_arrays.columns() is arrays
    received = from_message(orjson.loads(orjson.dumps(message)))
    assert received == with_arrays
    assert isinstance(received, MetricCollectedEvent) and received.arrays is None
    columns = received.columns()  # the lists converted
    assert columns.series_index.tolist() == [0, 1, 0]
    assert columns.timestamps_us.dtype == np.int64 and columns.values.tolist() == [1.0, 2.0, 3.0]
