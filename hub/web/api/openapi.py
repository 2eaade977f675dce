"""What the served OpenAPI document promises beyond the routes' own signatures.

A till developer generates a client from ``/schema/openapi.json``, so the
document must say what the hub really answers: the error body as
``hub.web.api.errors`` serves it (``{error, message, detail}``, not Litestar's
``{status_code, detail, extra}``), every status a route can answer, no bearer
token on the public routes, and pages that work in a store without internet.

Each route names its error statuses with ``errors(...)`` in its decorator;
400 (a body or parameter that cannot be decoded) and 503 (the database itself
is unusable, API.md) can come from any route and are always listed, 401 from
any route that needs a token. The schemathesis run of ``tests/fuzz`` checks
that no route answers a status it does not list.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Any

import msgspec
from litestar import Response, get
from litestar._openapi.schema_generation import SchemaCreator
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.exceptions import NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Schema
from litestar.params import FromPath
from litestar.typing import FieldDefinition


class ErrorBody(msgspec.Struct):
    """Every error the hub answers (API.md), whatever its status."""

    error: str
    """Stable machine code: ``not_found``, ``invalid_transition``, ``rule_failed``..."""
    message: str
    """For people; may change between versions."""
    detail: dict[str, Any]
    """Facts of the error: ``fields`` for a 422, ``state``/``event``/``allowed`` for
    ``invalid_transition``, ``retry_after`` for a 429..."""


_MEANING = {
    400: "bad_request: the body or a parameter is not valid JSON or cannot be decoded",
    401: "unauthorized: no token, a bad or expired one, or a wrong login or PIN",
    403: "forbidden: the caller's role may not do this",
    404: "not_found: the resource (or a record the body names) does not exist",
    409: "invalid_transition or a conflict with the current state (uuid_conflict...)",
    413: "request_too_large: the body is larger than the hub takes",
    422: "validation_error (detail.fields) or rule_failed (detail.rule and its facts)",
    429: "rate_limited: too many wrong PINs or passwords; wait Retry-After seconds",
    503: "unavailable: the database itself is unusable",
}


def errors(
    *statuses: int, public: bool = False, ok: Any = None, ok_statuses: tuple[int, ...] = (200,)
) -> dict[int, ResponseSpec]:
    """The error answers of one route, each with the one error body, and with ``ok`` (a
    ``hub.web.api.response_bodies`` type) the body of its success answers.

    400 and 503 are always there; 401 unless the route is ``public``. ``ok`` describes
    what a handler returning a plain dict serves (its ``-> dict`` says nothing).
    """
    wanted = {400, 503, *statuses} | (set() if public else {401})
    answers = {
        status: ResponseSpec(
            data_container=ErrorBody, description=_MEANING[status], generate_examples=False
        )
        for status in sorted(wanted)
    }
    if ok is not None:
        for status in ok_statuses:
            answers[status] = ResponseSpec(
                data_container=ok, description=_SUCCESS[status], generate_examples=False
            )
    return answers


_SUCCESS = {200: "OK", 201: "Created"}


class StrictStructSchema(StructSchemaPlugin):
    """A request body struct that refuses unknown fields says so: ``additionalProperties:
    false``. Litestar's own plugin leaves it out, so a client (and schemathesis) would read
    that extra fields are fine, then get a 422.

    It extends Litestar's struct plugin, which Litestar 2 keeps in a private module
    (``litestar._openapi``); pyproject pins Litestar below 3, and tests/hub's contract
    test fails if the schema loses ``additionalProperties``."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if field_definition.type_.__struct_config__.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


PUBLIC: list[dict[str, list[str]]] = [{}]
"""``security`` of a route that takes no token: an empty requirement, which OpenAPI reads
as "no authentication". (Litestar adds the bearer scheme to every operation unless the
route names its own.)"""


# --- /schema's pages, from the hub itself -------------------------------------------


def _swagger_files() -> Path:
    """Swagger UI as the ``swagger-ui-py`` package ships it (Apache-2.0, its LICENSE beside
    the files and served at ``/schema/static/LICENSE``). Found, not imported: importing the
    package loads jinja2 and PyYAML for its own handlers, which the hub does not use."""
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise NotFoundException("Swagger UI's files are not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


_STATIC_FILES = {
    "swagger-ui-bundle.js": "text/javascript",  # Litestar adds the charset to text/ types
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
    "LICENSE": "text/plain",
}
STATIC_PATH = "/schema/static"
_FAVICON = f"<link rel='icon' type='image/png' href='{STATIC_PATH}/favicon-32x32.png'>"


@get(
    f"{STATIC_PATH}/{{name:str}}",
    opt={"exclude_from_auth": True},
    include_in_schema=False,
    sync_to_thread=False,
)
def schema_static(name: FromPath[str]) -> Response[bytes]:
    """Swagger UI's files: the store's network may have no way out, the page must still load."""
    media_type = _STATIC_FILES.get(name)
    if media_type is None:
        raise NotFoundException(f"no schema file {name}")
    return Response(
        (_swagger_files() / name).read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )


def openapi_config() -> OpenAPIConfig:
    """``/schema`` (and ``/schema/swagger``) is Swagger UI on the hub's own files;
    ``/schema/openapi.json`` the document. Litestar's other pages (Scalar, ReDoc, RapiDoc,
    Elements) load from CDNs and are not served."""
    return OpenAPIConfig(
        title="EdgeHub",
        version="1",
        path="/schema",
        render_plugins=[
            SwaggerRenderPlugin(
                path=["/", "/swagger"],
                js_url=f"{STATIC_PATH}/swagger-ui-bundle.js",
                css_url=f"{STATIC_PATH}/swagger-ui.css",
                standalone_preset_js_url=f"{STATIC_PATH}/swagger-ui-standalone-preset.js",
                favicon=_FAVICON,
            ),
            JsonRenderPlugin(),
        ],
    )


ROUTES = [schema_static]
