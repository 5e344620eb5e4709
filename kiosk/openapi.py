"""Building blocks of the OpenAPI documents the edge and the fleet dashboard serve (each writes its own paths)."""

from __future__ import annotations

JSON = "application/json"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: dict, description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def error_response(description: str) -> dict:
    """A response with the `Error` schema of the document it is used in."""
    return json_response(ref("Error"), description)
