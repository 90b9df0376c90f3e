"""The picture bus's transports on the real servers (issue 12): what the settings choose, the
error when NATS is named but absent, and what an instance that starts late gets (each party's
newest frame, through JetStream's last message per subject, or the PostgreSQL table)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from fastapi.testclient import TestClient

from deconflict.errors import ConfigError
from deconflict.service import create_app
from deconflict.service.picture_bus import bus_kinds
from deconflict.service.picture_publisher import NatsPublisher, PostgresPublisher, open_publisher
from deconflict.service.picture_relay import NatsSubscriber, PictureRelay, PostgresSubscriber
from deconflict.settings import Settings

PG = "postgresql+psycopg://someone@db.example/deconflict"
NOWHERE = "nats://127.0.0.1:9"  # the discard port: nothing answers


def test_the_settings_choose_the_bus() -> None:
    assert bus_kinds(Settings(database_url=PG)) == ["nats", "postgres"]
    assert bus_kinds(Settings(database_url="sqlite:///x.db")) == []  # the embedded default
    assert bus_kinds(Settings(database_url="sqlite:///x.db", picture_bus="nats")) == ["nats"]
    assert bus_kinds(Settings(database_url=PG, picture_bus="none")) == []
    with pytest.raises(ConfigError, match="PostgreSQL database_url"):
        bus_kinds(Settings(database_url="sqlite://", picture_bus="postgres"))
    with pytest.raises(ConfigError, match="DECONFLICT_PICTURE_BUS"):
        Settings.from_env({"DECONFLICT_PICTURE_BUS": "redis"})


def test_nats_named_but_unreachable_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no NATS server answers at") as info:
        NatsPublisher(NOWHERE, "test")
    assert NOWHERE in str(info.value) and "DECONFLICT_PICTURE_BUS=postgres" in str(info.value)
    # a service told to use it does not start, and says why
    settings = Settings(database_url="sqlite://", picture_bus="nats", nats_url=NOWHERE)
    with (
        pytest.raises(ConfigError, match="nats-server -js"),
        TestClient(create_app(settings)),
    ):
        pass


@pytest.mark.postgres
def test_auto_falls_back_to_postgres_without_nats(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url, nats_url=NOWHERE)
    publisher = open_publisher(settings)
    assert isinstance(publisher, PostgresPublisher)
    publisher.close()
    with pytest.raises(ConfigError, match="no NATS server"):
        open_publisher(Settings(database_url=postgres_url, picture_bus="nats", nats_url=NOWHERE))


async def _late_instance_gets_the_newest(publisher: object, subscriber_of: object) -> None:
    rounds = [{"blue": b"blue-1", "red": b"red-1"}, {"blue": b"blue-2"}, {"red": b"red-3"}]
    for frames in rounds:
        await asyncio.to_thread(publisher.publish, frames)  # type: ignore[attr-defined]
    await asyncio.to_thread(publisher.flush)  # type: ignore[attr-defined]
    relay = PictureRelay()
    sub = subscriber_of(relay)  # type: ignore[operator]
    await sub.start()
    try:
        got = await asyncio.wait_for(
            asyncio.gather(relay.next("blue", 0), relay.next("red", 0)), 10
        )
        await asyncio.sleep(0.5)  # nothing older follows
        assert [f for _, f in got] == [b"blue-2", b"red-3"]
        assert relay.latest["blue"][1] == b"blue-2" and relay.latest["red"][1] == b"red-3"
        assert relay.received == 2
        # and then each new frame, at once
        await asyncio.to_thread(publisher.publish, {"blue": b"blue-4"})  # type: ignore[attr-defined]
        assert (await asyncio.wait_for(relay.next("blue", got[0][0]), 5))[1] == b"blue-4"
        assert relay.latest["red"][1] == b"red-3"
    finally:
        await sub.stop()


@pytest.mark.nats
async def test_a_late_instance_gets_each_partys_newest_frame_from_nats(nats_url: str) -> None:
    namespace = f"test{uuid.uuid4().hex[:8]}"
    publisher = await asyncio.to_thread(NatsPublisher, nats_url, namespace)
    try:
        await _late_instance_gets_the_newest(
            publisher, lambda relay: NatsSubscriber(nats_url, namespace, relay)
        )
        # another store's subjects are another namespace: nothing of these reaches it
        other = PictureRelay()
        sub = NatsSubscriber(nats_url, f"other{uuid.uuid4().hex[:8]}", other)
        await sub.start()
        await asyncio.sleep(0.5)
        await sub.stop()
        assert other.received == 0
    finally:
        await asyncio.to_thread(publisher.close)


@pytest.mark.postgres
async def test_a_late_instance_gets_each_partys_newest_frame_from_postgres(
    postgres_url: str,
) -> None:
    publisher = await asyncio.to_thread(PostgresPublisher, postgres_url)
    try:
        await _late_instance_gets_the_newest(
            publisher, lambda relay: PostgresSubscriber(postgres_url, relay)
        )
    finally:
        publisher.close()
