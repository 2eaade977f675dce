"""Load a library without the optional packages it would load for features we never use.

Some libraries import, when it is installed, a package they need only for an
optional feature: structlog imports rich for rich tracebacks (we render plain
ones: rich's would print locals, which may hold a PIN), httpx imports click,
pygments and rich for its command-line client. That is tens of milliseconds of
every process's start, and most of what a short ``edgehub`` command costs.
``hidden`` makes those imports fail while the library loads, so it takes the
fallback it has for when the package is not installed.

Safe because each library checks once, at import, and we use none of what it
gave up. The packages themselves stay importable: only the library being loaded
inside ``with hidden(...)`` sees them missing, and only then.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def hidden(*packages: str) -> Iterator[None]:
    """Inside the block, ``import`` of any of ``packages`` raises ImportError.

    Packages already loaded are left alone (a library loading now will see
    them, as it would have anyway)."""
    hiding = [name for name in packages if name not in sys.modules]
    for name in hiding:
        sys.modules[name] = None  # type: ignore[assignment]  # what makes import fail
    try:
        yield
    finally:
        for name in hiding:
            if sys.modules.get(name, "") is None:
                del sys.modules[name]
