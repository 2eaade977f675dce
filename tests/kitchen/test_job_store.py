"""The job store, routing and message checks on a real SQLite file, without a broker."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from firmware_bridge import intake, job_store, presence
from firmware_bridge.job_store import RetryPolicy
from firmware_bridge.messages import (
    Ack,
    DeviceStatus,
    Rejected,
    parse_ack,
    parse_bump,
    parse_status,
)
from hub.clock import now_iso
from hub.mqtt_topics import Topics
from tests.support.kitchen import BAR, COLD, GRILL, Kitchen

POLICY = RetryPolicy(first=5.0, maximum=60.0)
OK = DeviceStatus(online=True, paper="ok", cover="closed", error=None, firmware="t")


def test_retry_delay_doubles_up_to_the_maximum() -> None:
    """A device that stays away is asked again less and less often, but at least every minute."""
    assert [POLICY.delay(n) for n in (1, 2, 3, 4, 5, 6, 9)] == [5, 10, 20, 40, 60, 60, 60]


def test_take_splits_a_paid_order_by_station_once(kitchen: Kitchen) -> None:
    """One job per station with only that station's lines; reading the log again adds nothing."""
    order = kitchen.paid_order((GRILL, "2"), (BAR, "1"), (COLD, "1"), (GRILL, "1"))
    taken = kitchen.write(intake.take, POLICY)
    payloads = {o.station: json.loads(o.payload) for o in taken.outgoing}
    assert set(payloads) == {"grill", "bar", "cold"}
    grill = payloads["grill"]
    assert grill["job_id"] == f"{order.uuid}:grill:new"
    assert [(line["name"], line["qty"]) for line in grill["lines"]] == [
        ("Classic Burger", "2"),
        ("Classic Burger", "1"),
    ]
    assert grill["order"]["number"] == order.number and grill["device"] is None
    assert (grill["kind"], grill["reprint"], grill["attempt"]) == ("new", False, 1)
    assert taken.seq == kitchen.query("SELECT MAX(seq) FROM events")[0][0]
    assert kitchen.query("SELECT seq FROM cursors WHERE consumer = 'kitchen'") == [(taken.seq,)]

    kitchen.write(lambda db: db.execute("UPDATE cursors SET seq = 0"))  # replay the whole log
    assert kitchen.write(intake.take, POLICY).outgoing == []
    assert len(kitchen.jobs(order.id)) == 3


def test_cancel_in_the_same_batch_voids_instead_of_printing(kitchen: Kitchen) -> None:
    """A ticket that never left the hub needs no cancel ticket; one that left does."""
    early = kitchen.paid_order((GRILL, "1"))
    kitchen.fire(early.id, "cancel")
    assert kitchen.write(intake.take, POLICY).outgoing == []

    late = kitchen.paid_order((GRILL, "1"), (BAR, "1"))
    assert len(kitchen.write(intake.take, POLICY).outgoing) == 2
    kitchen.fire(late.id, "cancel")
    cancels = kitchen.write(intake.take, POLICY).outgoing
    assert sorted(o.job_id for o in cancels) == [
        f"{late.uuid}:bar:cancel",
        f"{late.uuid}:grill:cancel",
    ]
    assert {j["kind"]: j["state"] for j in kitchen.jobs(late.id) if j["station"] == "bar"} == {
        "new": "void",
        "cancel": "pending",
    }


def test_route_prefers_a_healthy_primary_then_a_healthy_backup(kitchen: Kitchen) -> None:
    """Tickets follow the printers that can print them, and wait on the primary when none can."""
    assert kitchen.write(presence.route, "grill") == presence.Route(None, backup=False)
    kitchen.add_device("g-primary", "grill")
    kitchen.add_device("g-backup", "grill", role="backup")
    assert kitchen.write(presence.route, "grill") == presence.Route("g-primary", backup=False)
    kitchen.write(presence.record_status, "g-backup", OK)
    assert kitchen.write(presence.route, "grill") == presence.Route("g-backup", backup=True)
    kitchen.write(presence.record_status, "g-primary", OK)
    assert kitchen.write(presence.route, "grill").device == "g-primary"
    for bad in ({"cover": "open"}, {"paper": "out"}, {"error": "printer offline"}):
        kitchen.write(presence.record_status, "g-primary", replace(OK, **bad))
        assert kitchen.write(presence.route, "grill").device == "g-backup", bad
    kitchen.write(presence.record_status, "g-backup", replace(OK, online=False))
    assert kitchen.write(presence.route, "grill") == presence.Route("g-primary", backup=False)


def test_status_events_only_on_change_and_last_will_keeps_paper(kitchen: Kitchen) -> None:
    """The log records what changed, not every heartbeat; a last will says nothing about paper."""
    kitchen.add_device("g1", "grill")
    assert kitchen.write(presence.record_status, "nobody", OK) is None
    first = kitchen.write(presence.record_status, "g1", OK)
    assert first.changed and first.health_changed
    assert not kitchen.write(presence.record_status, "g1", OK).changed
    will = DeviceStatus(online=False, paper=None, cover=None, error=None, firmware=None)
    gone = kitchen.write(presence.record_status, "g1", will)
    assert gone.changed and gone.health_changed
    assert kitchen.device_row("g1") == {
        "online": False,
        "paper": "ok",
        "cover": "closed",
        "error": None,
    }
    assert [e["online"] for e in kitchen.events("device.status")] == [True, False]


def test_acks_settle_a_job_once(kitchen: Kitchen) -> None:
    """First printed ack wins; repeats, late failures and unknown ids change nothing."""
    kitchen.add_device("g1", "grill")
    kitchen.add_device("g2", "grill", role="backup")
    order = kitchen.paid_order((GRILL, "1"))
    (out,) = kitchen.write(intake.take, POLICY).outgoing
    now = time.time()

    def ack(device: str, status: str, job_id: str = out.job_id) -> str:
        result = kitchen.write(
            job_store.record_ack,
            device,
            Ack(job_id, status, "paper out"),
            POLICY,
            now,  # type: ignore[arg-type]
        )
        return result.result

    assert ack("g1", "failed") == "failed"
    assert kitchen.jobs(order.id)[0]["state"] == "failed"
    assert ack("g2", "failed") == "stale"  # the job was addressed to g1
    assert ack("g2", "printed") == "acked"
    assert ack("g1", "printed") == "duplicate"
    assert ack("g1", "failed") == "stale"
    assert ack("g1", "printed", "nope") == "unknown"
    (job,) = kitchen.jobs(order.id)
    assert (job["state"], job["acked_by"], job["last_error"]) == ("acked", "g2", None)
    assert kitchen.write(job_store.next_due) is None


def test_reconnection_resends_only_what_went_out_before_it(kitchen: Kitchen) -> None:
    """A job claimed on the new connection is not sent again under its own PUBACK, bannerless."""
    before = kitchen.paid_order((GRILL, "1"))
    (old,) = kitchen.write(intake.take, POLICY).outgoing
    kitchen.write(job_store.mark_sent, [old.job_id])
    time.sleep(0.002)  # the hub stamps times to the millisecond
    connected_at = now_iso()
    time.sleep(0.002)
    after = kitchen.paid_order((GRILL, "1"))
    assert len(kitchen.write(intake.take, POLICY).outgoing) == 1  # in flight, no PUBACK yet

    now = time.time()
    assert kitchen.write(job_store.reschedule_all, now, connected_at) == 1
    (resent,) = kitchen.write(job_store.claim_due, POLICY, now)
    assert resent.job_id == old.job_id and json.loads(resent.payload)["reprint"] is True
    assert kitchen.jobs(after.id)[0]["attempts"] == 1
    assert kitchen.jobs(before.id)[0]["attempts"] == 2


@pytest.mark.parametrize(
    ("parse", "payload"),
    [
        (parse_ack, b'{"job_id": "", "status": "printed"}'),
        (parse_ack, b'{"job_id": "j", "status": "printed", "error": 3}'),
        (parse_status, b'{"online": 1}'),
        (parse_status, b'{"online": true, "paper": "ok", "cover": "ajar"}'),
        (parse_bump, b'{"order_uuid": "u", "action": "READY"}'),
        (parse_bump, b'"ready"'),
        (parse_bump, b"\xc3\x28"),
        (parse_bump, b"{" + b" " * 20_000 + b"}"),
    ],
)
def test_bad_payloads_are_rejected(parse: object, payload: bytes) -> None:
    """Each field is checked before anything acts on it, whatever the bytes are."""
    with pytest.raises(Rejected):
        parse(payload)  # type: ignore[operator]


def test_failed_ack_without_reason_gets_one() -> None:
    """A failed job always shows why in the API, even when the firmware forgot to say."""
    assert parse_ack(b'{"job_id": "j", "status": "failed"}').error == "the device did not say why"


def test_topics_parse_only_single_safe_levels() -> None:
    """A device name can never smuggle a wildcard or an extra level into a topic."""
    topics = Topics("demo")
    assert topics.parse("edgehub/demo/devices/grill-1/ack") == ("ack", "grill-1")
    assert topics.parse("edgehub/demo/kitchen/bar/bump") == ("bump", "bar")
    assert topics.parse("edgehub/demo/kitchen/bar/jobs") is None
    assert topics.parse("edgehub/other/devices/grill-1/ack") is None
    assert topics.parse("edgehub/demo/devices/a/b/ack") is None
    with pytest.raises(ValueError):
        topics.jobs("grill/#")
