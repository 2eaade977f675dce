"""The baseline for bench.orders: a bare Litestar endpoint doing one comparable insert.

One POST writes an order row, three line rows and one event row in one
transaction on its own single writer thread, with the same pragmas as the hub
(WAL, synchronous FULL), served by uvicorn with the same options. Whatever the
hub costs beyond this is the price of its rules, state machine and answers.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn
from litestar import Litestar, post

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, uuid TEXT UNIQUE, state TEXT,
    amount_total INTEGER, created_at TEXT);
CREATE TABLE IF NOT EXISTS order_lines (id INTEGER PRIMARY KEY, order_id INTEGER,
    product_id INTEGER, qty TEXT, price_unit INTEGER);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT,
    ts TEXT, rooms TEXT, data TEXT);
"""


def open_baseline(path: str, synchronous: str = "FULL") -> sqlite3.Connection:
    """The baseline's connection: WAL, the given ``synchronous``, its three tables."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.executescript(SCHEMA)
    return conn


def insert_order(conn: sqlite3.Connection, body: dict[str, Any]) -> dict[str, Any]:
    """The baseline's transaction: an order row, its line rows and one event row."""
    conn.execute("BEGIN IMMEDIATE")
    cur = conn.execute(
        "INSERT INTO orders (uuid, state, amount_total, created_at) VALUES (?, 'draft', ?, ?)",
        (body["uuid"], 950, time.time()),
    )
    order_id = cur.lastrowid
    for line in body["lines"]:
        conn.execute(
            "INSERT INTO order_lines (order_id, product_id, qty, price_unit) VALUES (?, ?, ?, 950)",
            (order_id, line["product_id"], line["qty"]),
        )
    order = {"id": order_id, "uuid": body["uuid"], "lines": body["lines"]}
    conn.execute(
        "INSERT INTO events (event, ts, rooms, data) VALUES ('order.created', ?, 'store', ?)",
        (time.time(), json.dumps(order)),
    )
    conn.execute("COMMIT")
    return order


def make_app(path: str, synchronous: str = "FULL") -> Litestar:
    conn = open_baseline(path, synchronous)
    writer = ThreadPoolExecutor(max_workers=1)

    @post("/insert")
    async def insert_route(data: dict[str, Any]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(writer, insert_order, conn, data)

    return Litestar([insert_route])


if __name__ == "__main__":
    db, port = sys.argv[1], int(sys.argv[2])
    synchronous = sys.argv[3] if len(sys.argv) > 3 else "FULL"
    uvicorn.run(
        make_app(db, synchronous),
        host="127.0.0.1",
        port=port,
        http="httptools",
        loop="uvloop",
        log_level="warning",
    )
