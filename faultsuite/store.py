"""One store on 127.0.0.1, built from nothing in a temporary directory, and its processes.

``Store.build()`` makes the database the way an installer does (``edgehub
demo`` for the staff, ``edgehub device add`` for the printers), starts a
private Mosquitto and Redis and an Odoo emulator, then the store's own
programs. Every program is a ``processes.Child`` the fault schedule may kill;
``heal()`` brings back whatever is down.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

from faultsuite import processes
from faultsuite.odoo_emulator import OdooEmulator
from faultsuite.printers import Printers
from faultsuite.processes import Child

ODOO_VERSION = 18
PRINTERS = {"grill-printer-1": "grill", "bar-printer-1": "bar"}
# Odoo's seeded products and the kitchen station each is made at.
STATIONS = {"BURGER": "grill", "FRIES": "grill", "COLA": "bar", "WATER": "bar"}
SERVERS = 2


class Store:
    """The database, the infrastructure and the store's programs of one run."""

    def __init__(
        self,
        workdir: Path,
        *,
        quiet: bool = True,
        with_redis: bool = True,
        starter: processes.Starter = processes.fresh_interpreter,
    ) -> None:
        self.dir = workdir
        self.starter = starter
        self.db = workdir / "edgehub.db"
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.code = f"fs{uuid.uuid4().hex[:8]}"
        self.mqtt_port = processes.free_port()
        self.redis_port = processes.free_port()
        self.broker = processes.mosquitto(self.mqtt_port, workdir)
        self.redis = processes.redis_server(self.redis_port, workdir) if with_redis else None
        self.odoo = OdooEmulator(ODOO_VERSION)
        self.printers = Printers(list(PRINTERS))
        self.quiet = quiet
        self.servers: list[Child] = []
        self.urls: list[str] = []
        self.programs: dict[str, Child] = {}

    # -- environment ------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        seed = self.odoo.seed
        assert seed is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEHUB_")}
        env.update(
            EDGEHUB_DB=str(self.db),
            EDGEHUB_STORE=self.code,
            EDGEHUB_BACKUP_DIR=str(self.dir / "backups"),
            # A temporary store: PINs need not resist an offline attack here.
            EDGEHUB_PIN_HASH_ITERATIONS="1000",
            EDGEHUB_LOG_LEVEL="warning" if self.quiet else "info",
            EDGEHUB_MQTT_URL=f"mqtt://127.0.0.1:{self.mqtt_port}",
            EDGEHUB_MQTT_KEEPALIVE_SECONDS="2",
            EDGEHUB_KITCHEN_ACK_TIMEOUT_SECONDS="1",
            EDGEHUB_KITCHEN_RETRY_MAX_SECONDS="2",
            EDGEHUB_WS_PING_INTERVAL="1",
            EDGEHUB_WS_PING_TIMEOUT="2",
            EDGEHUB_ODOO_URL=self.odoo.url,
            EDGEHUB_ODOO_DB=self.odoo.dbname,
            EDGEHUB_ODOO_LOGIN=seed.login,
            EDGEHUB_ODOO_API_KEY=seed.api_key,
            EDGEHUB_ODOO_POS_CONFIG_ID=str(seed.config_id),
            EDGEHUB_SYNC_TIMEOUT_SECONDS="2",
            EDGEHUB_SYNC_BACKOFF_MAX_SECONDS="1",
            EDGEHUB_SYNC_PULL_INTERVAL_SECONDS="30",
        )
        if self.redis is not None:
            env["EDGEHUB_REDIS_URL"] = f"redis://127.0.0.1:{self.redis_port}/0"
        return env

    def infrastructure(self) -> list[Child]:
        return [self.broker] + ([self.redis] if self.redis is not None else [])

    def run(self, *args: str) -> tuple[int, str]:
        """``edgehub ARGS`` to its end, started as the store's programs are (``starter``):
        its exit status and its output (stdout and stderr, as written)."""
        log = self.logs / f"cli-{args[0]}-{uuid.uuid4().hex[:8]}.log"
        command = self.starter(args, self.env(), log)
        try:
            code = command.wait(120)
        except subprocess.TimeoutExpired:
            command.send_signal(signal.SIGKILL)
            command.wait()
            raise
        return code, log.read_text(errors="replace") if log.exists() else ""

    def cli(self, *args: str) -> None:
        """``edgehub ARGS``, which must succeed."""
        code, output = self.run(*args)
        if code != 0:
            raise RuntimeError(f"edgehub {' '.join(args)} failed:\n{output}")

    def sql(self, query: str, *params: object) -> list[tuple[object, ...]]:
        """Read the store's database (a read-only connection, beside the running programs)."""
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return list(conn.execute(query, params).fetchall())
        finally:
            conn.close()

    # -- building ---------------------------------------------------------------------------

    def build(self) -> Store:
        self.odoo.start()
        for infra in self.infrastructure():
            infra.start()
        self.cli("demo")  # the schema, the staff and their PINs, the payment methods
        for device, station in PRINTERS.items():
            self.cli("device", "add", device, "--station", station)
        env = self.env()
        self.programs["sync"] = processes.edgehub(
            "sync", ["sync"], env, self.logs, notify=True, starter=self.starter
        )
        self.programs["sync"].start()
        self._await_catalogue()
        for n in range(SERVERS):
            port = processes.free_port()
            server = processes.serve(f"serve{n + 1}", port, env, self.logs, self.starter)
            self.servers.append(server.start())
            self.urls.append(f"http://127.0.0.1:{port}")
            self.programs[server.name] = server
        self.programs["bridge"] = processes.edgehub(
            "bridge", ["bridge"], env, self.logs, notify=True, starter=self.starter
        ).start()
        for device in PRINTERS:
            connect = f"tcp://127.0.0.1:{self.printers.port(device)}"
            child = processes.edgehub(
                device, ["printer", "--device", device, "--connect", connect], env, self.logs,
                notify=True, starter=self.starter,
            )  # fmt: skip
            self.programs[device] = child.start()
        return self

    def _await_catalogue(self, timeout: float = 60.0) -> None:
        """Wait for the agent's first pull, then say which station makes each pulled product."""
        deadline = time.monotonic() + timeout
        while len(self.sql("SELECT id FROM products WHERE remote_id IS NOT NULL")) < len(STATIONS):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no catalogue from Odoo:\n{self.programs['sync'].tail()}")
            time.sleep(0.1)
        conn = sqlite3.connect(self.db, timeout=30)
        try:
            with conn:
                for code, station in STATIONS.items():
                    conn.execute(
                        "UPDATE products SET station = ? WHERE default_code = ? "
                        "AND remote_id IS NOT NULL",
                        (station, code),
                    )
        finally:
            conn.close()

    # -- faults and recovery ----------------------------------------------------------------

    def heal(self) -> None:
        """Bring back everything a fault left down; Odoo answers every call again."""
        self.odoo.faults.clear()
        self.odoo.come_back()
        for name in PRINTERS:
            self.printers.set(name, paper_out=False)
        for infra in self.infrastructure():
            if not infra.alive():
                infra.start()
        for child in self.programs.values():
            if not child.alive():
                child.start()

    def close(self) -> None:
        for child in self.programs.values():
            child.stop()
        for infra in self.infrastructure():
            infra.stop()
        self.printers.close()
        self.odoo.stop()
