"""What a database holds, as one comparable value: proof that a refused command changed nothing."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path


def content(db: Path) -> str:
    """A digest of every row of every table, read through SQLite (WAL included)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        digest = hashlib.sha256()
        for line in conn.iterdump():
            digest.update(line.encode())
        return digest.hexdigest()
    finally:
        conn.close()
