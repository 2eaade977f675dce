"""schemathesis against the schema the hub serves, as an admin and as a cashier: every phase
(the schema's examples, boundary values, random data in and out of the schema, and sequences
following the links) and every check: no answer is a 5xx, each status and body is one the
schema documents (the error body included), what the schema refuses is refused, what it
allows is taken (except the rules it cannot state: ``schemathesis.toml`` beside this file),
405 and OPTIONS name the path's methods; nothing is logged with a traceback.

The run is the schemathesis command itself, bounded and reproducible: a fixed number of
examples per operation, deterministic generation (no seed, no example database), one
worker; 10-20 s a role here. A failure prints the command's report, with a curl line
that reproduces each 5xx.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.conftest import FUZZ_ROLES
from tests.support import local_http
from tests.support.hub_process import HubProcess

HTTP_VERBS = {"get", "put", "post", "patch", "delete"}

CONFIG = Path(__file__).with_name("schemathesis.toml")
"""The rules of the hub the schema cannot state, where a 422 answers schema-valid data."""

EXAMPLES = 12
"""Per operation and phase: enough to reach the boundaries (ids past 64 bits were found so)."""


def schemathesis_run(
    hub: HubProcess, header: str, workdir: Path
) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{hub.url}/schema/openapi.json",
        "--header",
        f"Authorization: {header}",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
        "--warnings",
        "off",
    ]
    return subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=240, check=False
    )


@pytest.mark.parametrize("role", list(FUZZ_ROLES))
def test_every_answer_keeps_the_schemas_contract(
    fuzz_hub: HubProcess, fuzz_tokens: dict[str, str], role: str, tmp_path: Path
) -> None:
    """A 5xx is a bug of ours that a till's mistake or a hostile client can reach; an answer
    the schema does not document breaks the client a till developer generated from it."""
    run = schemathesis_run(fuzz_hub, fuzz_tokens[role], tmp_path)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    schema = local_http.get(f"{fuzz_hub.url}/schema/openapi.json", timeout=5).json()
    served = sum(1 for item in schema["paths"].values() for verb in item if verb in HTTP_VERBS)
    tested = re.search(r"Operations:\s+(\d+)", run.stdout)
    assert tested is not None, run.stdout[-2000:]
    assert int(tested.group(1)) == served  # the whole API was loaded and tested


def test_the_fuzzing_left_no_traceback(fuzz_hub: HubProcess) -> None:
    """Refused input is answered, not crashed on: the hub's log holds no traceback."""
    health = local_http.get(f"{fuzz_hub.url}/health", timeout=5).json()
    assert health["checks"]["redis"] == "ok"  # the fuzzing went through the Redis cache
    log = fuzz_hub.log.read_text()
    assert "Traceback" not in log, log[max(log.find("Traceback") - 200, 0) :][:3000]
