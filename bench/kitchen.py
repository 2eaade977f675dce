"""bench.kitchen: event -> device ack latency of kitchen tickets, beside a bare paho round trip.

    .venv/bin/python -m bench.kitchen [--tickets 1000] [--rate 25] [--broker mqtt://HOST:PORT]

One run, on a temporary demo-store database and a unique store code, through a
Mosquitto of its own started with the store's setting that matters here
(``set_tcp_nodelay true``, from systemd/mosquitto/edgehub.conf), or through
--broker:

  * baseline: bare paho (TCP_NODELAY on both clients), client A publishes QoS 1,
    client B answers each message with a QoS 1 publish, A receives the answer:
    the least any ticket's round trip through Mosquitto can cost;
  * hub: `edgehub bridge` plus three `edgehub printer` adapters (grill, bar,
    cold), each printing to a simulated ESC/POS printer over TCP
    (`python -m firmware_bridge.printer_sim`). Orders with one kitchen line are
    paid in SQLite through the hub's own service code; latency runs from the
    commit of the payment (the event is in the log) to the device's ack arriving
    at an observer on the broker, so it covers: the bridge noticing the commit,
    the job transaction, the publish, the adapter's seen-set, the printer's
    status query and the ticket bytes, and the ack;
  * steady: --tickets tickets at --rate per second; burst: --tickets orders
    paid in one transaction, so the kitchen gets them all at once.

Prints p50/p99/max per phase, the ratio to the baseline, re-sends and duplicates.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from bench.http_load import percentile
from bench.workload import free_port, hub_env
from hub.auth.users import get_actor
from hub.broker_url import MqttUrl
from hub.db.connection import immediate, open_db
from hub.db.migrations import migrate
from hub.demo import load_demo
from hub.devices import add_device
from hub.orders import commands
from hub.orders.commands import LineInput, OrderRules, PaymentInput
from hub.orders.models import Order
from hub.orders.money import Money
from hub.sessions import open_session
from hub.settings import Settings

STATIONS = {"grill": 1, "bar": 10, "cold": 19}  # a demo product on each station


class PrivateBroker:
    """Mosquitto on a free port with the store's latency setting, for the length of the run."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        conf = workdir / "mosquitto.conf"
        text = f"listener {self.port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n"
        text += "persistence false\n" + ("user root\n" if os.geteuid() == 0 else "")
        conf.write_text(text)
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("mosquitto did not start")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _client(url: MqttUrl, on_message: Any) -> paho.Client:
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=f"bench-{uuid.uuid4().hex[:8]}",
        protocol=paho.MQTTv311,
    )
    if url.username:
        client.username_pw_set(url.username, url.password)
    client.on_socket_open = lambda _c, _u, sock: sock.setsockopt(
        socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
    )
    client.on_message = on_message
    client.max_inflight_messages_set(100)
    connected = threading.Event()
    client.on_connect = lambda *_: connected.set()
    client.connect(url.host, url.port)
    client.loop_start()
    if not connected.wait(10):
        raise SystemExit(f"cannot connect to {url}")
    return client


def _summary(latencies: list[float], expected: int) -> dict[str, float]:
    ms = 1000
    return {
        "n": len(latencies),
        "lost": expected - len(latencies),
        "p50": percentile(latencies, 50) * ms,
        "p99": percentile(latencies, 99) * ms,
        "max": max(latencies) * ms if latencies else float("nan"),
    }


def baseline(url: MqttUrl, n: int, rate: float | None) -> dict[str, float]:
    """Bare paho QoS 1 round trip: A -> broker -> B -> broker -> A."""
    topic = f"bench/{uuid.uuid4().hex[:8]}"
    sent: dict[int, float] = {}
    got: dict[int, float] = {}
    done = threading.Event()

    def on_pong(_c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        got[int(msg.payload)] = time.perf_counter()
        if len(got) == n:
            done.set()

    a = _client(url, on_pong)
    b = _client(url, lambda c, _u, msg: c.publish(f"{topic}/pong", msg.payload, qos=1))
    for client, sub in ((a, f"{topic}/pong"), (b, f"{topic}/ping")):
        client.subscribe(sub, qos=1)
    time.sleep(0.3)
    start = time.perf_counter()
    for i in range(n):
        if rate:
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        sent[i] = time.perf_counter()
        a.publish(f"{topic}/ping", str(i).encode(), qos=1)
    done.wait(60)
    for client in (a, b):
        client.disconnect()
        client.loop_stop()
    return _summary([got[i] - sent[i] for i in got], n)


class KitchenRig:
    """A temporary demo store, its kitchen processes and an ack observer."""

    def __init__(self, broker: str, workdir: Path) -> None:
        self.url = MqttUrl.parse(broker)
        self.code = f"bench{uuid.uuid4().hex[:6]}"
        self.settings = Settings(db=workdir / "edgehub.db", store=self.code, mqtt_url=broker)
        self.money = Money()
        self.rules = OrderRules(money=self.money, store=self.code, max_discount_pct=Decimal(30))
        self.db = open_db(self.settings)
        migrate(self.db)
        with immediate(self.db):
            load_demo(self.db, pin_iterations=1000)
            for station in STATIONS:
                add_device(self.db, f"{station}-1", station=station, role="primary", kind="printer")
            self.actor = get_actor(self.db, 1)
            assert self.actor is not None
            self.session = open_session(
                self.db, self.money, self.actor, terminal="bench", opening_cash=0
            ).id
        self.env = hub_env(
            EDGEHUB_DB=str(self.settings.store.db),
            EDGEHUB_STORE=self.code,
            EDGEHUB_MQTT_URL=broker,
            EDGEHUB_LOG_LEVEL="warning",
        )
        self.procs: list[subprocess.Popen[bytes]] = []
        self.workdir = workdir
        self.paid_at: dict[str, float] = {}
        self.sent_at: dict[str, float] = {}
        self.acked_at: dict[str, float] = {}
        self.acks = 0
        self._all_acked = threading.Event()
        self._expected = 0

    def start(self) -> None:
        log = (self.workdir / "processes.log").open("ab")
        for station in STATIONS:
            port = free_port()
            sim = [sys.executable, "-m", "firmware_bridge.printer_sim", "--port", str(port)]
            self.procs.append(subprocess.Popen(sim, stdout=subprocess.DEVNULL, stderr=log))
            time.sleep(0.3)
            adapter = [sys.executable, "-m", "hub.cli", "printer", "--device", f"{station}-1"]
            adapter += ["--connect", f"tcp://127.0.0.1:{port}"]
            self.procs.append(subprocess.Popen(adapter, env=self.env, stdout=log, stderr=log))
        bridge = [sys.executable, "-m", "hub.cli", "bridge"]
        self.procs.append(subprocess.Popen(bridge, env=self.env, stdout=log, stderr=log))
        self.observer = _client(self.url, self._on_message)
        self.observer.subscribe(f"edgehub/{self.code}/devices/+/ack", qos=1)
        self.observer.subscribe(f"edgehub/{self.code}/kitchen/+/jobs", qos=1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            online = self.db.execute("SELECT COUNT(*) FROM devices WHERE online = 1").fetchone()
            if online[0] == len(STATIONS):
                return
            time.sleep(0.1)
        raise SystemExit("the kitchen did not come up; run with --keep and see processes.log")

    def _on_message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        now = time.perf_counter()
        ack = json.loads(msg.payload)
        order_uuid = ack["job_id"].split(":")[0]
        if msg.topic.endswith("/jobs"):
            self.sent_at.setdefault(order_uuid, now)
            return
        self.acks += 1
        if ack["status"] == "printed" and order_uuid not in self.acked_at:
            self.acked_at[order_uuid] = now
            if len(self.acked_at) >= self._expected:
                self._all_acked.set()

    def _order(self, i: int) -> Order:
        station = list(STATIONS)[i % len(STATIONS)]
        order, _ = commands.create_order(
            self.db,
            self.rules,
            self.actor,
            uuid=str(uuid.uuid4()),
            session_id=self.session,
            lines=[LineInput(product_id=STATIONS[station], qty=Decimal(1))],
            note="",
            fingerprint=uuid.uuid4().hex,
        )
        return commands.transition(self.db, self.rules, self.actor, order.id, "validate")

    def _pay(self, order: Order) -> None:
        payments = [PaymentInput(method_id=2, amount=self.money.parse(order.amount_total))]
        commands.transition(self.db, self.rules, self.actor, order.id, "pay", payments=payments)

    def steady(self, n: int, rate: float) -> dict[str, float]:
        self._reset(n)
        start = time.perf_counter()
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            with immediate(self.db):
                order = self._order(i)
                self._pay(order)
            self.paid_at[order.uuid] = time.perf_counter()
        return self._collect(n)

    def burst(self, n: int) -> dict[str, float]:
        self._reset(n)
        with immediate(self.db):
            orders = [self._order(i) for i in range(n)]
        with immediate(self.db):
            for order in orders:
                self._pay(order)
        paid = time.perf_counter()
        self.paid_at = {o.uuid: paid for o in orders}
        result = self._collect(n)
        result["tickets_per_s"] = n / (max(self.acked_at.values()) - paid)
        return result

    def _reset(self, n: int) -> None:
        self.paid_at, self.sent_at, self.acked_at, self.acks = {}, {}, {}, 0
        self._expected = n
        self._all_acked.clear()

    def _collect(self, n: int) -> dict[str, float]:
        self._all_acked.wait(120)
        time.sleep(0.5)  # late duplicate acks, if any
        latencies = [self.acked_at[u] - t for u, t in self.paid_at.items() if u in self.acked_at]
        result = _summary(latencies, n)
        to_broker = [self.sent_at[u] - t for u, t in self.paid_at.items() if u in self.sent_at]
        at_device = [self.acked_at[u] - t for u, t in self.sent_at.items() if u in self.acked_at]
        result["bridge_p50"] = percentile(to_broker, 50) * 1000
        result["bridge_p99"] = percentile(to_broker, 99) * 1000
        result["device_p50"] = percentile(at_device, 50) * 1000
        result["device_p99"] = percentile(at_device, 99) * 1000
        result["duplicate_acks"] = self.acks - len(self.acked_at)
        return result

    def resends(self) -> int:
        row = self.db.execute("SELECT COALESCE(SUM(attempts - 1), 0) FROM kitchen_jobs").fetchone()
        return int(row[0])

    def stop(self) -> None:
        self.observer.disconnect()
        self.observer.loop_stop()
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.db.close()


def _row(name: str, r: dict[str, float], base: dict[str, float] | None = None) -> str:
    line = f"{name:<34} n={r['n']:<5.0f} p50 {r['p50']:7.2f} ms  p99 {r['p99']:7.2f} ms"
    line += f"  max {r['max']:7.2f} ms"
    if base:
        line += f"   p50 x{r['p50'] / base['p50']:.0f}  p99 x{r['p99'] / base['p99']:.0f}"
    if r.get("lost"):
        line += f"  LOST {r['lost']:.0f}"
    return line


def _split(r: dict[str, float]) -> str:
    return (
        f"    of which paid -> job at the broker p50 {r['bridge_p50']:.2f} / p99 "
        f"{r['bridge_p99']:.2f} ms, job -> ack p50 {r['device_p50']:.2f} / p99 "
        f"{r['device_p99']:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.kitchen", description=__doc__)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=25.0, help="steady tickets per second")
    parser.add_argument("--broker", help="an existing broker instead of a private one")
    parser.add_argument("--keep", action="store_true", help="keep the database and process logs")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-kitchen-"))
    private = None if args.broker else PrivateBroker(workdir)
    broker = args.broker or private.url  # type: ignore[union-attr]
    url = MqttUrl.parse(broker)
    try:
        print(f"broker {url}" + (" (private, set_tcp_nodelay true)" if private else ""))
        print(f"baseline: bare paho QoS 1 round trip, {args.tickets} messages", flush=True)
        base_steady = baseline(url, args.tickets, args.rate)
        base_burst = baseline(url, args.tickets, None)

        store = KitchenRig(broker, workdir)
        print(f"hub: bridge + 3 printer adapters + 3 simulated printers, store {store.code}")
        try:
            store.start()
            steady = store.steady(args.tickets, args.rate)
            burst = store.burst(args.tickets)
            resends = store.resends()
        finally:
            store.stop()
    finally:
        if private is not None:
            private.stop()
        if args.keep:
            print(f"logs and database kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"steady, {args.rate:g} tickets/s")
    print(_row("  paho publish -> answer (baseline)", base_steady))
    print(_row("  paid -> device ack (hub)", steady, base_steady))
    print(_split(steady))
    print(f"burst, {args.tickets} tickets paid in one transaction")
    print(_row("  paho publish -> answer (baseline)", base_burst))
    print(_row("  paid -> device ack (hub)", burst, base_burst))
    print(_split(burst))
    print(f"  hub burst throughput: {burst['tickets_per_s']:.0f} tickets/s to the last ack")
    dupes = steady["duplicate_acks"] + burst["duplicate_acks"]
    print(f"re-sends: {resends}, duplicate acks: {dupes:.0f}")
    target = "met" if steady["p99"] < 50 else "MISSED"
    print(f"target p99 < 50 ms steady: {target}")


if __name__ == "__main__":
    main()
