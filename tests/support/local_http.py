"""HTTP to the hubs and emulators the tests start, with one TLS context per process.

httpx builds a new ``ssl.SSLContext`` for every ``httpx.Client`` and every
``httpx.get()``, reading certifi's CA bundle each time (about 25 ms of CPU),
even for the ``http://`` URLs a test uses, which never touch it. A profile
of the whole suite found this the largest single cost of the test workers:
a hub start polls ``/health`` every 50 ms, each poll with a context of its
own, on the cores the starting hub needs. These wrappers pass the one
context instead; the requests themselves are the same. It is the fault
suite's (``faultsuite.local_http``), so a test running the suite builds one.
"""

from __future__ import annotations

from typing import Any

import httpx

from faultsuite.local_http import TLS


def get(url: str, **kw: Any) -> httpx.Response:
    return httpx.get(url, verify=TLS, **kw)


def post(url: str, **kw: Any) -> httpx.Response:
    return httpx.post(url, verify=TLS, **kw)


def client(**kw: Any) -> httpx.Client:
    return httpx.Client(verify=TLS, **kw)


def async_client(**kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=TLS, **kw)
