"""Tool schemas translated to the subset Gemini accepts (providers/gemini_schema.py)."""

from __future__ import annotations

from typing import Any

from providers.conversation import ChatRequest, ToolSpec, UserMessage
from providers.gemini import Gemini
from providers.gemini_schema import gemini_schema
from tests.providers.test_gemini import KIND, settings_for

# What Gemini's Schema object documents; anything else is an HTTP 400.
ALLOWED = {
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
    "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
    "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum",
}  # fmt: skip

# The kind of schema MCP servers send (pydantic output with $defs, Optional, Literal...).
MCP_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "$defs": {
        "Point": {
            "type": "object",
            "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
            "required": ["x", "y"],
        },
        "Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}},
    },
    "properties": {
        "where": {"$ref": "#/$defs/Point", "description": "A point."},
        "maybe": {"type": ["string", "null"], "format": "uri"},
        "mode": {"const": "fast"},
        "level": {"enum": [1, 2, 3]},
        "choice": {"oneOf": [{"type": "string"}, {"type": "integer", "exclusiveMinimum": 0}]},
        "both": {"allOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]}]},
        "tree": {"$ref": "#/$defs/Node"},
        "when": {"type": "string", "format": "date-time"},
    },
    "required": ["where", "ghost"],
}


def keywords(node: Any, found: set[str]) -> set[str]:
    """Every schema keyword used anywhere (property names are not keywords)."""
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key == "properties":
                for sub in value.values():
                    keywords(sub, found)
            elif key in ("items", "anyOf"):
                keywords(value, found)
    elif isinstance(node, list):
        for item in node:
            keywords(item, found)
    return found


def test_an_mcp_schema_becomes_the_subset_in_the_request_body() -> None:
    tool = ToolSpec("mcp__s__t", "A tool.", MCP_SCHEMA)
    body = Gemini(settings_for(KIND)).build_body(
        ChatRequest(messages=(UserMessage("hi"),), tools=(tool,))
    )
    params = body["tools"][0]["functionDeclarations"][0]["parameters"]
    assert keywords(params, set()) <= ALLOWED
    props = params["properties"]
    assert props["where"] == {
        "type": "object",
        "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        "required": ["x", "y"],
        "description": "A point.",
    }
    assert props["maybe"] == {"type": "string", "nullable": True}
    assert props["mode"] == {"enum": ["fast"], "type": "string"}
    assert "enum" not in props["level"] and "One of: 1, 2, 3." in props["level"]["description"]
    assert props["choice"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert props["both"]["properties"] == {"a": {"type": "string"}}
    assert props["both"]["required"] == ["a"]
    assert props["tree"]["properties"]["child"]["type"] == "object"  # the cycle is cut
    assert props["when"]["format"] == "date-time"
    assert params["required"] == ["where"]  # "ghost" is not a property


def test_a_deep_or_odd_schema_never_raises() -> None:
    deep: dict[str, Any] = {"type": "object", "properties": {}}
    node = deep
    for _ in range(100):
        child: dict[str, Any] = {"type": "object", "properties": {}}
        node["properties"]["n"] = child
        node = child
    assert keywords(gemini_schema(deep), set()) <= ALLOWED
    assert gemini_schema({"type": "object", "properties": {"x": True}})["properties"] == {"x": True}
    assert gemini_schema({"$ref": "#/nowhere"}) == {"type": "object", "description": ""}
