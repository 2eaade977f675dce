"""Hypothesis-made MQTT payloads on every topic the bridge and the printer adapter read: each
is parsed or refused with a reason, applied without a failure, and a live bridge and adapter
that receive a stream of them keep serving the kitchen without logging a traceback."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_bridge import inbox, intake, presence
from firmware_bridge.escpos import PARTIAL_CUT, InvalidTicket, render_ticket
from firmware_bridge.inbox import Inbound
from firmware_bridge.job_store import RetryPolicy
from firmware_bridge.messages import ACK_STATUSES, BUMP_ACTIONS, Ack, Bump, DeviceStatus, Rejected
from hub.mqtt_topics import Topics
from tests.conftest import demo_database
from tests.firmware_bridge import tickets
from tests.support.kitchen import BAR, GRILL, Kitchen, SimPrinter, wait_until
from tests.support.mqtt_client import Mqtt

POLICY = RetryPolicy(first=5.0, maximum=60.0)
STORE = "fuzz"
TOPICS = Topics(STORE)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)
names = st.sampled_from(["grill-1", "grill-2", "bar-1", "ghost", "a" * 64]) | st.from_regex(
    r"\A[A-Za-z0-9_-]{1,20}\Z"
)
acks = st.fixed_dictionaries(
    {},
    optional={
        "job_id": st.text(max_size=60) | json_values,
        "status": st.sampled_from(["printed", "shown", "failed", "PRINTED"]) | json_values,
        "error": st.text(max_size=600) | json_values,
        "device": names,
    },
)
statuses = st.fixed_dictionaries(
    {},
    optional={
        "online": st.booleans() | json_values,
        "paper": st.sampled_from(["ok", "low", "out", None, "purple"]),
        "cover": st.sampled_from(["open", "closed", None, 1]),
        "error": st.none() | st.text(max_size=600),
        "firmware": st.none() | st.text(max_size=600) | json_values,
    },
)
bumps = st.fixed_dictionaries(
    {},
    optional={
        "order_uuid": st.uuids().map(str) | st.text(max_size=80) | json_values,
        "action": st.sampled_from(["start", "ready", "recall", "explode"]) | json_values,
    },
)
deep = st.integers(1, 20_000).map(lambda n: b"[" * n + b"]" * n)
raw = st.binary(max_size=300) | deep | json_values.map(lambda v: json.dumps(v).encode())


def payloads(kind: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[bytes]:
    return kind.map(lambda d: json.dumps(d).encode()) | raw


messages = st.one_of(
    st.tuples(names.map(TOPICS.ack), payloads(acks)),
    st.tuples(names.map(TOPICS.status), payloads(statuses)),
    st.tuples(st.sampled_from(["grill", "bar", "cold"]).map(TOPICS.bump), payloads(bumps)),
)


@given(messages)
def test_every_payload_is_parsed_or_rejected_with_a_reason(message: tuple[str, bytes]) -> None:
    """The one function that reads device input turns every input into a verdict."""
    topic, payload = message
    try:
        parsed = inbox.parse(TOPICS, topic, payload)
    except Rejected as exc:
        assert str(exc) and len(str(exc)) < 200  # a reason fit for a log line
    else:
        assert parsed is not None


jobs_like = st.fixed_dictionaries(
    {},
    optional={key: st.just(value) | json_values for key, value in tickets.SIMPLE.items()},
)


@given(jobs_like | json_values)
def test_every_job_payload_renders_or_is_refused(job: Any) -> None:
    """What the adapter reads off the jobs topic prints or becomes a failed ack, never a crash."""
    if not isinstance(job, dict):
        return  # the adapter refuses non-objects before rendering (test_malformed)
    try:
        data = render_ticket(job, columns=42)
    except InvalidTicket as exc:
        assert str(exc)
    else:
        assert data.endswith(PARTIAL_CUT)  # a whole ticket, cut


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Kitchen:
    """A demo store with devices and paid orders' tickets, for messages to act on."""
    kitchen = Kitchen(demo_database(Path(tmp_path_factory.mktemp("mqttfuzz")) / "edgehub.db"))
    kitchen.add_device("grill-1", "grill")
    kitchen.add_device("grill-2", "grill", role="backup")
    kitchen.add_device("bar-1", "bar")
    ok = DeviceStatus(online=True, paper="ok", cover="closed", error=None, firmware="t")
    kitchen.write(presence.record_status, "grill-1", ok)
    for _ in range(3):
        kitchen.paid_order((GRILL, "1"), (BAR, "2"))
    kitchen.write(intake.take, POLICY)
    return kitchen


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_accepted_messages_apply_without_a_failure(store: Kitchen, data: st.DataObject) -> None:
    """Fuzzed messages mixed with acks and bumps naming real jobs and orders, from any device,
    in any order, commit without an ``inbound_failed`` (a bug tripped by one message)."""
    parsed = []
    for topic, payload in data.draw(st.lists(messages, max_size=10), label="fuzzed"):
        try:
            message = inbox.parse(TOPICS, topic, payload)
        except Rejected:
            continue
        if message is not None:
            parsed.append(message)
    jobs_and_orders = store.query(
        "SELECT j.job_id, j.station, o.uuid FROM kitchen_jobs j JOIN orders o ON o.id = j.order_id"
    )
    real = st.sampled_from(jobs_and_orders)
    acks = st.builds(
        lambda device, row, status: Inbound(device, Ack(row[0], status, "junk")),
        names,
        real,
        st.sampled_from(ACK_STATUSES),
    )
    bumps_ = st.builds(
        lambda row, action: Inbound(row[1], Bump(row[2], action)),
        real,
        st.sampled_from(BUMP_ACTIONS),
    )
    parsed += data.draw(st.lists(acks | bumps_, max_size=8), label="real")
    errors = _Errors()
    logging.getLogger("edgehub.bridge").addHandler(errors)
    try:
        store.write(inbox.apply, store.rules, POLICY, TOPICS, parsed, time.time())
    finally:
        logging.getLogger("edgehub.bridge").removeHandler(errors)
    assert [r.getMessage() for r in errors.records] == []


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Kitchen, SimPrinter, Mqtt]]:
    """A bridge, a printer adapter on a simulated printer, and a rogue client on the broker."""
    kitchen = Kitchen(demo_database(Path(tmp_path_factory.mktemp("mqttlive")) / "edgehub.db"))
    sim = SimPrinter()
    rogue = Mqtt()
    kitchen.add_device("grill-1", "grill")
    kitchen.bridge()
    kitchen.printer("grill-1", sim.port)
    wait_until(lambda: kitchen.device_row("grill-1")["paper"] == "ok", what="printer online")
    yield kitchen, sim, rogue
    rogue.close()
    kitchen.close()
    sim.close()


live_messages = st.one_of(
    messages,
    st.tuples(st.just("kitchen/grill/jobs"), payloads(jobs_like)).map(
        lambda m: (f"{TOPICS.root}/{m[0]}", m[1])
    ),
)


@settings(max_examples=4, deadline=None, derandomize=True, database=None)
@given(batch=st.lists(live_messages, min_size=10, max_size=30))
def test_a_stream_of_fuzzed_payloads_leaves_the_kitchen_working(
    live: tuple[Kitchen, SimPrinter, Mqtt], batch: list[tuple[str, bytes]]
) -> None:
    """A buggy or hostile device cannot stop the bridge or the adapter, nor make them crash."""
    kitchen, sim, rogue = live
    for topic, payload in batch:
        rogue.publish(topic.replace(f"edgehub/{STORE}/", f"edgehub/{kitchen.store}/"), payload)
    order = kitchen.paid_order((GRILL, "1"))
    kitchen.wait_jobs(order.id, "acked", 1)
    assert order.name in [p.order for p in sim.printed()]
    for process in kitchen.processes:
        assert process.alive(), process.name
        assert "Traceback" not in process.log_text(), process.log_text()[-3000:]
