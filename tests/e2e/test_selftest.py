"""``edgehub selftest``: a store of its own, the ledger table, the exit status; box untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def selftest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEHUB_")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", "selftest", *args],
        env=full_env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip


@pytest.mark.timeout(300)
def test_selftest_passes_prints_the_table_and_leaves_the_store_alone(tmp_path: Path) -> None:
    # The box's own settings name a database that does not exist: selftest neither
    # refuses for it nor creates it.
    store_db = tmp_path / "store" / "edgehub.db"
    done = selftest("--orders", "30", "--faults", "3", "--tills", "2", EDGEHUB_DB=str(store_db))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "orders acknowledged               30" in lines
    injected = next(line for line in lines if line.startswith("faults injected"))
    assert int(injected.split()[-1]) >= 3  # a pay kill is three
    assert "verdict                           PASS" in lines
    assert lines[-1] == "selftest passed: nothing acknowledged was lost or done twice"
    assert not store_db.parent.exists()


@pytest.mark.parametrize("args", [["--orders", "0"], ["--tills", "-1"], ["--faults", "x"]])
def test_selftest_refuses_bad_sizes(args: list[str]) -> None:
    done = selftest(*args)
    assert done.returncode == 2
    assert "selftest: error: argument" in done.stderr
