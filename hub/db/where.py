"""A WHERE clause built from optional filters: the shape every list query shares.

Each filter whose value is given adds its condition and its ``?`` parameter;
values never enter the SQL text.
"""

from __future__ import annotations

from typing import Any


class Where:
    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: str, value: Any) -> Where:
        """Add ``condition`` (one ``?``) with ``value``, unless the value is None."""
        if value is not None:
            self.conditions.append(condition)
            self.params.append(value)
        return self

    def always(self, condition: str) -> Where:
        """Add a condition that takes no parameter."""
        self.conditions.append(condition)
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(self.conditions) or "1 = 1"
