"""The OpenAPI document lists, for every operation, the refusals it may answer, all in the one error shape."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    code: str = Field(description="A stable, machine-readable code, e.g. not_found or invalid_input.")
    message: str = Field(description="What went wrong, naming the field or row when there is one.")
    data: dict[str, Any] = Field(description="Details: the field, the row, the limit, the choices ...")


class ErrorResponse(BaseModel):
    """Every error Tagora answers, the framework's own 404, 405 and 422 included."""

    error: ErrorBody


ERRORS = {
    "400": "Bad request: a malformed body, an unsupported encoding or a value the operation refuses.",
    "401": "Not signed in, or the credentials are wrong.",
    "403": "Signed in, but the role lacks the permission (or a cap is exceeded).",
    "404": "A customer, segment, tag or other resource named in the request does not exist.",
    "409": "The request conflicts with the current state (a duplicate, a wrong lifecycle step).",
    "413": "The body or the result is larger than allowed.",
    "415": "The body's media type or Content-Encoding is not supported.",
    "422": "A field fails validation; the message and data name it.",
    "429": "Too many attempts; wait for Retry-After seconds.",
}
_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_UNUSED = ("HTTPValidationError", "ValidationError")


def document_errors(app: FastAPI) -> None:
    """Give every operation the error responses in the one shape (FastAPI's own 422 model is replaced)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in _UNUSED:
            schemas.pop(name, None)
        defs = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(defs.pop("$defs", {}))
        schemas["ErrorResponse"] = defs
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERRORS.items():
                    responses[status] = {
                        "description": description,
                        "content": {"application/json": {"schema": _REF}},
                    }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
