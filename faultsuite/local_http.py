"""The one TLS context of a fault-suite run, for every client it makes.

httpx builds a new one for each ``httpx.Client`` and each ``httpx.get()``,
reading the CA bundle (about 25 ms of CPU), even for the plain ``http://``
hubs of the run, which never use it; the health polls of a starting hub made
dozens a second, on the cores the hub was starting on.
"""

from __future__ import annotations

import httpx

TLS = httpx.create_ssl_context()
