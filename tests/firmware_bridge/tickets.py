"""Kitchen job payloads as the hub sends them, for the printing tests."""

from __future__ import annotations

import copy
from typing import Any

BASE: dict[str, Any] = {
    "job_id": "7f3c9a2e-0b1d-4c55-9e2a-1d2b3c4d5e6f",
    "order": {"name": "demo-0001-0007", "number": 7, "note": "", "table": "4"},
    "station": "grill",
    "lines": [
        {"name": "Cheeseburger", "qty": "2", "note": "", "modifiers": ["no onion"]},
        {"name": "Fries", "qty": "1", "note": "extra crispy", "modifiers": []},
    ],
    "created_at": "2025-03-14T12:34:56.789Z",
    "kind": "new",
    "backup": False,
    "reprint": False,
}


def ticket(**changes: Any) -> dict[str, Any]:
    """The base ticket with top-level fields replaced; ``order`` is merged, not replaced."""
    payload = copy.deepcopy(BASE)
    order = changes.pop("order", {})
    payload.update(changes)
    payload["order"].update(order)
    return payload


def line(name: str, qty: str = "1", note: str = "", modifiers: list[str] | None = None) -> dict:
    return {"name": name, "qty": qty, "note": note, "modifiers": modifiers or []}


SIMPLE = ticket()

ACCENTS = ticket(
    station="Küche",
    order={"note": "Geburtstag: Kerze auf die Crème brûlée, 2 €", "table": "Terrasse 3"},
    lines=[
        line("Crème brûlée", "2"),
        line("Jalapeño poppers", "1", modifiers=["Sauce à part"]),
        line("Ärtsoppa", "0.5", note="ohne Speck, süß"),
        line("Façade salad", "1"),
    ],
)

LONG_NAME = ticket(
    lines=[
        line(
            "Slow-roasted pulled pork sandwich with smoked cheddar, pickled red onions"
            " and chipotle mayonnaise on a toasted brioche bun",
            "12",
            note="cut in half, sauce on the side, customer asked twice so please check",
            modifiers=["gluten-free bun instead of the brioche one, if there is any left"],
        ),
        line("Wienerschnitzelmitkartoffelsalatundpreiselbeerenundzitrone", "1"),
    ],
)

BACKUP_REPRINT = ticket(backup=True, reprint=True, order={"table": None})

CANCEL = ticket(
    kind="cancel",
    order={"note": "guest left"},
    lines=[line("Cheeseburger", "2", modifiers=["no onion"])],
)

UNENCODABLE = ticket(
    lines=[
        line("Pizza \U0001f355", "1", note="spicy \U0001f336\ufe0f\U0001f336\ufe0f"),
        line("Kimchi \u6ce1\u83dc", "1", modifiers=["\u201cmild\u201d \u2013 really"]),
    ],
)
