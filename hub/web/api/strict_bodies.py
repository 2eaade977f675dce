"""Request bodies decoded once, strictly: ``"1"`` where a number belongs is a 422.

Litestar converts a ``data: JSONBody[X]`` body in msgspec's lax mode, where
``"1"`` quietly becomes ``1``. The API promises typed JSON, so a handler's body
is decoded here instead: straight from the request's bytes into ``X`` with
``strict=True``, unknown fields refused by the struct itself
(``forbid_unknown_fields``). ``StrictBodies`` hooks it into Litestar as the
decoder of every such body, the way a DTO decodes one; the handler gets the
struct and Litestar does not convert it again.

What a client sees of a refused body is what it saw when Litestar decoded first:
422 ``validation_error`` naming the field (``data`` for the body as a whole), 400
``bad_request`` with the decoder's words for bytes that are not JSON, 400 for a
body left out where one is required.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

import msgspec
from litestar.dto import AbstractDTO, DTOConfig, DTOFieldDefinition
from litestar.exceptions import ClientException
from litestar.plugins import SerializationPlugin
from litestar.typing import FieldDefinition

from hub.errors import ValidationFailed

_AT_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


def _refused(exc: msgspec.ValidationError) -> ValidationFailed:
    """The field msgspec names (``lines[0].qty``), ``data`` for the body itself."""
    message = str(exc)
    match = _AT_PATH.search(message)
    field = (match.group("path") or "data") if match else "data"
    text = message[: match.start()] if match else message
    return ValidationFailed("the request does not match the schema", {"fields": {field: text}})


def decode(raw: bytes, kind: Any) -> Any:
    """``raw`` as ``kind``, strictly; a refusal is the hub's 422 or 400."""
    try:
        try:
            return msgspec.json.decode(raw, type=kind, strict=True)
        except msgspec.ValidationError as exc:
            # The typed decoder stops at the first wrong value; bytes that are not JSON
            # at all (cut short, nested past the decoder) are still answered as such.
            msgspec.json.decode(raw)
            raise _refused(exc) from exc
    except msgspec.DecodeError as exc:
        # Litestar's words for the same bytes; ``hub.web.api.errors`` words them for people.
        raise ClientException(str(exc)) from exc


def _is_body(field_definition: FieldDefinition) -> bool:
    """A struct that refuses unknown fields is a request body: what the hub answers
    never needs to."""
    kind = field_definition.annotation
    return (
        isinstance(kind, type)
        and issubclass(kind, msgspec.Struct)
        and kind.__struct_config__.forbid_unknown_fields
    )


class StrictBody(AbstractDTO[Any]):
    """Decodes one handler's body (``annotation``, ``X`` or ``X | None``) with ``decode``.

    Only the two decoding methods and the schema are used: no transfer model is
    built, and the body's OpenAPI schema is the struct's own, as without a DTO.
    """

    config = DTOConfig()
    annotation: Any = None

    def decode_bytes(self, value: bytes) -> Any:
        return decode(value, self.annotation)

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        try:
            return msgspec.convert(value, self.annotation, strict=True)
        except msgspec.ValidationError as exc:
            raise _refused(exc) from exc

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        """Nothing to build: the struct is its own decoder."""

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Any:
        return schema_creator.for_field_definition(field_definition)

    @classmethod
    def is_supported_model_type_field(cls, field_definition: FieldDefinition) -> bool:
        """Never for an answer: Litestar asks this of the return type, which it encodes."""
        return False

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False


class StrictBodies(SerializationPlugin):
    """Every ``data: JSONBody[X]`` whose ``X`` (or ``X | None``) is a request body struct
    is decoded by a ``StrictBody`` of its own."""

    def supports_type(self, field_definition: FieldDefinition) -> bool:
        return _is_body(field_definition)

    def create_dto_for_type(self, field_definition: FieldDefinition) -> type[AbstractDTO[Any]]:
        name = f"StrictBody[{field_definition.annotation!r}]"
        return type(name, (StrictBody,), {"annotation": field_definition.annotation})
