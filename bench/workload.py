"""The catalogue benchmark's workload and plumbing: a 50,000-product database, what
tills type, Zipf draws, and a served hub on its own core.

Kept apart from ``bench.catalog`` so that module reads as the measurements only.
"""

from __future__ import annotations

import bisect
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from hub.db.connection import immediate, open_db
from hub.db.migrations import migrate
from hub.demo import load_catalogue, load_demo
from hub.settings import Settings


def build(path: Path, products: int) -> Settings:
    settings = Settings(db=path, pin_hash_iterations=1000, mqtt_url="", db_synchronous="NORMAL")
    db = open_db(settings)
    migrate(db)
    have = db.execute("SELECT COUNT(*) FROM products").fetchone()[0]
    if have < products:
        started = time.perf_counter()
        with immediate(db):
            load_demo(db, pin_iterations=1000)
            load_catalogue(db, products)
        print(f"  loaded {products:,} products in {time.perf_counter() - started:.1f} s")
    db.close()
    return settings


def till_queries(settings: Settings, count: int, seed: int = 3) -> list[str]:
    """What tills type: word starts, word middles, two words, unaccented words, whole
    barcodes, last digits, references, one or two letters, whole names."""
    db = open_db(settings, readonly=True)
    rows = db.execute("SELECT name, barcode, default_code FROM products").fetchall()
    db.close()
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        name, barcode, code = rng.choice(rows)
        words = [w for w in name.split() if len(w) >= 3] or [name]
        word = rng.choice(words)
        k = rng.random()
        if k < 0.30:
            out.append(word[: rng.randint(3, min(6, max(3, len(word))))])
        elif k < 0.40:
            i = rng.randint(0, max(0, len(word) - 3))
            out.append(word[i : i + 3])
        elif k < 0.50:
            parts = name.split()
            i = rng.randrange(max(1, len(parts) - 1))
            out.append(" ".join(parts[i : i + 2]))
        elif k < 0.58:
            out.append(word.lower().replace("é", "e").replace("è", "e").replace("ü", "u"))
        elif k < 0.68:
            out.append(barcode or name)
        elif k < 0.73:
            out.append((barcode or "0000")[-rng.randint(4, 6) :])
        elif k < 0.80:
            code = code or name
            out.append(code if rng.random() < 0.5 else code[: rng.randint(3, 7)])
        elif k < 0.90:
            out.append(name[: rng.randint(1, 2)])
        else:
            out.append(name)
    return out


def zipf(n: int, s: float, rng: random.Random) -> Callable[[], int]:
    cumulative = list(itertools.accumulate(1 / k**s for k in range(1, n + 1)))
    total = cumulative[-1]
    return lambda: min(n - 1, bisect.bisect(cumulative, rng.random() * total))


def hub_env(**settings: str) -> dict[str, str]:
    """This process's environment without its ``EDGEHUB_*`` settings, plus ``settings``:
    a child hub reads only what the bench gives it, not the shell's configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEHUB_")}
    env.update(settings)
    return env


def serve(
    settings: Settings, redis_url: str | None, store: str, port: int
) -> subprocess.Popen[bytes]:
    env = hub_env(
        EDGEHUB_DB=str(settings.store.db), EDGEHUB_PORT=str(port), EDGEHUB_STORE=store,
        EDGEHUB_PIN_HASH_ITERATIONS="1000", EDGEHUB_LOG_LEVEL="warning", EDGEHUB_MQTT_URL="",
        EDGEHUB_DB_SYNCHRONOUS="NORMAL",
    )  # fmt: skip
    if redis_url:
        env["EDGEHUB_REDIS_URL"] = redis_url
    pin = (lambda: os.sched_setaffinity(0, {0})) if hasattr(os, "sched_setaffinity") else None
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve"], env=env, preexec_fn=pin,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the hub did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used (Linux /proc), to divide by requests."""
    return _stat_cpu(Path(f"/proc/{pid}/stat"))


def main_thread_cpu_seconds(pid: int) -> float:
    """User + system CPU of the process's main thread (Linux /proc): the event loop's,
    in a uvicorn server; ``cpu_seconds`` minus this is its other threads'."""
    return _stat_cpu(Path(f"/proc/{pid}/task/{pid}/stat"))


def _stat_cpu(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """Resident memory of a process (Linux /proc), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_warm(port: int, bearer: str, timeout: float = 120) -> None:
    """Measure after the first warming round, which runs in the background at start."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/cache/stats",
        headers={"Authorization": f"Bearer {bearer}"},
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(request, timeout=5) as r:
            if json.load(r)["warmed_at"]:
                return
        time.sleep(0.2)
    raise RuntimeError("the hub did not finish warming")


def token(port: int) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/token",
        data=json.dumps({"login": "marco", "pin": "9999"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as r:
        return str(json.load(r)["access_token"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def drop_keys(redis_url: str, store: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"edgehub:{store}:*", count=1000))
    for i in range(0, len(keys), 500):
        client.unlink(*keys[i : i + 500])
    client.close()
