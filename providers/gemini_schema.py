"""JSON Schema -> the OpenAPI subset Gemini accepts in ``functionDeclaration.parameters``.

Gemini answers HTTP 400 to a schema keyword outside its ``Schema`` object
(``additionalProperties``, ``$ref``, ``oneOf``, ``const``, ``type`` lists...),
and tool schemas from MCP servers use all of them. So the translation keeps
only the keywords Gemini documents and rewrites what has an equivalent:

- ``$ref`` to ``#/$defs/X`` or ``#/definitions/X`` is inlined (a cycle, or a
  reference nested deeper than ``MAX_DEPTH``, becomes a bare object);
- ``type: ["string", "null"]`` becomes ``type: string, nullable: true``;
- ``oneOf`` becomes ``anyOf``; an ``allOf`` of objects is merged;
- ``const`` becomes a one-value ``enum``; enums are strings (Gemini rejects
  others), so a non-string enum is dropped and listed in the description;
- ``format`` is kept only where Gemini knows it.

Property *names* are kept whatever they are; only keywords are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 24
_KEEP = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "maxItems",
        "minItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "anyOf",
        "propertyOrdering",
        "default",
        "items",
        "minimum",
        "maximum",
    }
)
_FORMATS = {"string": {"enum", "date-time"}, "integer": {"int32", "int64"}}
_FORMATS["number"] = {"float", "double"}


def gemini_schema(schema: Any) -> Any:
    """Translate one tool's parameters schema (see the module docstring)."""
    if not isinstance(schema, Mapping):
        return schema
    defs: dict[str, Any] = {}
    for key in ("$defs", "definitions"):
        table = schema.get(key)
        if isinstance(table, Mapping):
            defs.update({f"#/{key}/{name}": value for name, value in table.items()})
    return _node(schema, defs, 0, ())


def _node(node: Any, defs: Mapping[str, Any], depth: int, seen: tuple[str, ...]) -> Any:
    if not isinstance(node, Mapping) or depth > MAX_DEPTH:
        return {"type": "object"} if depth > MAX_DEPTH else node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen or ref not in defs:
            return {"type": "object", "description": str(node.get("description", ""))}
        merged = {**defs[ref], **{k: v for k, v in node.items() if k != "$ref"}}
        return _node(merged, defs, depth + 1, (*seen, ref))
    node = _merge_all_of(node)
    out: dict[str, Any] = {}
    for key, value in node.items():
        key = "anyOf" if key == "oneOf" else key
        if key == "const":
            out["enum"] = [value]
        elif key == "properties" and isinstance(value, Mapping):
            out[key] = {n: _node(sub, defs, depth + 1, seen) for n, sub in value.items()}
        elif key == "items":
            out[key] = _node(value, defs, depth + 1, seen)
        elif key == "anyOf" and isinstance(value, list):
            out[key] = [_node(sub, defs, depth + 1, seen) for sub in value]
        elif key in _KEEP:
            out[key] = value
    _fix_type(out)
    _fix_enum(out)
    return out


def _merge_all_of(node: Mapping[str, Any]) -> Mapping[str, Any]:
    parts = node.get("allOf")
    if not isinstance(parts, list) or not all(isinstance(p, Mapping) for p in parts):
        return node
    merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    for part in parts:
        for key, value in part.items():
            if key == "properties" and isinstance(value, Mapping):
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required" and isinstance(value, list):
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _fix_type(out: dict[str, Any]) -> None:
    kind = out.get("type")
    if isinstance(kind, list):
        real = [k for k in kind if k != "null"]
        if len(real) < len(kind):
            out["nullable"] = True
        out["type"] = real[0] if real else "string"
        kind = out["type"]
    fmt = out.get("format")
    if fmt is not None and fmt not in _FORMATS.get(str(kind), set()):
        del out["format"]
    required = out.get("required")
    properties = out.get("properties")
    if isinstance(required, list) and isinstance(properties, Mapping):
        # Gemini rejects a required name that is not a property.
        out["required"] = [name for name in dict.fromkeys(required) if name in properties]
    if "anyOf" in out and "type" in out:
        del out["type"]  # Gemini wants the alternatives to carry the types


def _fix_enum(out: dict[str, Any]) -> None:
    values = out.get("enum")
    if values is None:
        return
    if isinstance(values, list) and all(isinstance(v, str) for v in values):
        out.setdefault("type", "string")
        return
    del out["enum"]
    shown = ", ".join(json.dumps(v) for v in values) if isinstance(values, list) else ""
    note = f"One of: {shown}."
    out["description"] = f"{out['description']} {note}" if out.get("description") else note
