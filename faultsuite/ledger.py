"""The ledger check: what every witness saw, held against what the store kept.

The witnesses are the tills' receipts (every 2xx they got), the paper out of
each simulated printer, the Odoo emulator's ``pos.order`` rows, the WebSocket
watchers' frames and the audit chain. A problem is *lost* (something
acknowledged is missing: an order, a payment, a ticket, an Odoo order, an
event) or *duplicated* (something happened twice: a second payment, an
unmarked second ticket, an order twice at Odoo, an event delivered twice), or
*inconsistent* (a history that does not chain, amounts that differ).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from cloud_sync.outbox import refund_uuid
from cloud_sync.payloads import uuid_from_reference
from faultsuite.odoo_emulator import OdooEmulator
from faultsuite.printers import Printed
from faultsuite.tills import PAID_STATES, Receipt
from faultsuite.watchers import Watcher
from hub.db.connection import open_db
from hub.orders import repository
from hub.orders.models import Order
from hub.orders.money import Money
from hub.settings import Settings


@dataclass
class Ledger:
    counts: Counter[str] = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    inconsistent: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.inconsistent)


def hub_orders(settings: Settings) -> dict[str, Order]:
    """Every order in the hub, by uuid, in the shape the API answers."""
    db = open_db(settings, readonly=True)
    try:
        ids = [r[0] for r in db.execute("SELECT id FROM orders ORDER BY id").fetchall()]
        orders = [repository.get_order(db, Money(), i) for i in ids]
    finally:
        db.close()
    return {o.uuid: o for o in orders if o is not None}


def check_orders(ledger: Ledger, receipts: list[Receipt], orders: dict[str, Order]) -> None:
    """Every order a till got a 2xx for exists, in the state it was told, paid at most once."""
    for r in receipts:
        if "create" not in r.acked:
            continue
        ledger.counts["orders acknowledged"] += 1
        ledger.counts["payments learned by read-back"] += r.learned_by_readback.count("pay")
        order = orders.get(r.uuid)
        if order is None or order.id != r.id:
            ledger.lost.append(f"order {r.uuid} (id {r.id}): acknowledged, not in the hub")
            continue
        state = order.state
        paid = [p for p in order.payments if p.kind == "payment"]
        refunds = [p for p in order.payments if p.kind == "refund"]
        history = order.state_history
        chained = all(a.to == b.from_ for a, b in itertools.pairwise(history))
        if not chained or (history and history[-1].to != state):
            ledger.inconsistent.append(f"order {r.id}: history does not chain to {state}")
        events = [h.event for h in history]
        for event in r.acked[1:]:
            if event not in events:
                ledger.lost.append(f"order {r.id}: {event} acknowledged, not in its history")
        if len(paid) > 1 or events.count("pay") > 1:
            ledger.duplicated.append(f"order {r.id}: paid {len(paid)} times")
        if "pay" in r.acked:
            if not paid:
                ledger.lost.append(f"order {r.id}: payment acknowledged, none recorded")
            elif Decimal(paid[0].amount) != Decimal(order.amount_total):
                ledger.inconsistent.append(f"order {r.id}: paid {paid[0].amount}")
        if "cancel" in r.acked:
            if state != "cancelled":
                ledger.lost.append(f"order {r.id}: cancel acknowledged, state {state}")
            if paid and len(refunds) != 1:
                ledger.inconsistent.append(
                    f"order {r.id}: {len(refunds)} refunds for a paid cancel"
                )
        elif "pay" in r.acked and state not in PAID_STATES:
            ledger.lost.append(f"order {r.id}: paid, now {state}")
        ledger.counts["orders paid"] += state in PAID_STATES
        ledger.counts["orders cancelled"] += state == "cancelled"


def check_tickets(
    ledger: Ledger,
    jobs: list[tuple[str, str, str, str]],
    printed: dict[str, list[Printed]],
) -> None:
    """Each live job printed at least once; no ticket twice unless marked REPRINT.

    ``jobs`` are (order name, station, kind, state) from ``kitchen_jobs``.
    """
    copies: Counter[tuple[str, str, str]] = Counter()
    plain: Counter[tuple[str, str, str]] = Counter()
    for tickets in printed.values():
        for t in tickets:
            copies[t.key] += 1
            plain[t.key] += not t.reprint
            ledger.counts["tickets printed"] += 1
            ledger.counts["of them marked REPRINT"] += t.reprint
    known = {(name, station, kind) for name, station, kind, _ in jobs}
    for name, station, kind, state in jobs:
        key = (name, station, kind)
        if state == "void":
            continue
        if state != "acked":
            ledger.lost.append(f"ticket {key}: still {state} at the end")
        elif copies[key] == 0:
            ledger.lost.append(f"ticket {key}: acked, never printed")
    for key, n in plain.items():
        if n > 1:
            ledger.duplicated.append(f"ticket {key}: printed {n} times unmarked")
        if key not in known:
            ledger.duplicated.append(f"ticket {key}: printed for no job")


def check_kitchen_coverage(
    ledger: Ledger, orders: dict[str, Order], jobs: list[tuple[str, str, str, str]]
) -> None:
    """Every paid order with kitchen lines has a 'new' ticket for each of its stations.

    A paid order cancelled before the bridge read its payment never gets one
    (docs/kitchen.md, "Cancellation"); its cancel is checked by ``check_tickets``.
    """
    new_jobs = {(name, station) for name, station, kind, _ in jobs if kind == "new"}
    for order in orders.values():
        if order.state not in PAID_STATES:
            continue
        for station in order.stations():
            if (order.name, station) not in new_jobs:
                ledger.lost.append(f"order {order.id}: paid, no {station} ticket")


def check_odoo(ledger: Ledger, odoo: OdooEmulator, orders: dict[str, Order]) -> None:
    """Odoo holds each paid order (and each refund) exactly once, with the hub's amounts."""
    expected: dict[str, Decimal] = {}
    for order in orders.values():
        refunds = [p for p in order.payments if p.kind == "refund"]
        if order.state not in PAID_STATES and not refunds:
            continue
        expected[order.uuid] = Decimal(order.amount_total)
        if refunds:
            expected[refund_uuid(order.uuid)] = -Decimal(order.amount_total)
    stored = odoo.orders()
    seen = Counter(uuid_from_reference(o["pos_reference"] or "") for o in stored)
    ledger.counts["orders at Odoo"] += len(stored)
    for key, n in seen.items():
        if n > 1:
            ledger.duplicated.append(f"Odoo holds {key} {n} times")
        if key not in expected:
            ledger.duplicated.append(f"Odoo holds {key}, which the hub did not sell")
    for key in expected.keys() - seen.keys():
        ledger.lost.append(f"Odoo misses {key}")
    for o in stored:
        key = uuid_from_reference(o["pos_reference"] or "")
        want = expected.get(key or "")
        got = Decimal(repr(o["amount_total"])).quantize(Decimal("0.01"))
        if want is not None and got != want:
            ledger.inconsistent.append(f"Odoo has {key} at {got}, the hub {want}")


def check_watchers(
    ledger: Ledger, watchers: list[Watcher], room_seqs: dict[str, list[int]]
) -> None:
    """Each watcher saw each event of its room exactly once, across all its reconnects."""
    for w in watchers:
        want = room_seqs[w.room]
        got = Counter(w.seqs)
        ledger.counts["events delivered to watchers"] += len(w.seqs)
        ledger.counts["watcher reconnects"] += max(0, w.connects - 1)
        ledger.counts["watcher stalls (stopped reading)"] += w.stalls
        for code, n in w.close_codes.items():
            ledger.counts[f"watcher sockets closed {code}"] += n
        if w.resets:
            ledger.lost.append(f"{w.login} on {w.room}: told to reset {w.resets} times")
        missing = [s for s in want if s not in got]
        twice = [s for s, n in got.items() if n > 1]
        if missing:
            ledger.lost.append(f"{w.login} on {w.room}: {len(missing)} events never seen")
        if twice:
            ledger.duplicated.append(f"{w.login} on {w.room}: {len(twice)} events seen twice")
        if w.seqs != sorted(w.seqs):
            ledger.inconsistent.append(f"{w.login} on {w.room}: events out of order")


def room_seqs(settings: Settings, room: str) -> list[int]:
    db = open_db(settings, readonly=True)
    try:
        rows = db.execute(
            "SELECT seq FROM events WHERE instr(' ' || rooms || ' ', ?) > 0 ORDER BY seq",
            (f" {room} ",),
        ).fetchall()
    finally:
        db.close()
    return [int(r[0]) for r in rows]


def table(ledger: Ledger, faults: Counter[str], seconds: float) -> str:
    """The table the suite prints: what was done, what was broken, what was lost."""
    rows = [(k, str(v)) for k, v in ledger.counts.items()]
    rows.append(("faults injected", str(sum(faults.values()))))
    rows += [(f"  {kind}", str(n)) for kind, n in sorted(faults.items())]
    rows += [
        ("lost", str(len(ledger.lost))),
        ("duplicated", str(len(ledger.duplicated))),
        ("inconsistent", str(len(ledger.inconsistent))),
        ("seconds", f"{seconds:.0f}"),
        ("verdict", "PASS" if ledger.ok else "FAIL"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    problems = ledger.lost + ledger.duplicated + ledger.inconsistent
    lines += [f"! {p}" for p in problems[:30]]
    if len(problems) > 30:
        lines.append(f"! ... and {len(problems) - 30} more")
    return "\n".join(lines)
