"""A tiny JSON Schema checker for the subset the tool specs use.

Supported: ``type: object`` at the top, ``required``, ``properties`` whose
``type`` is ``string``, ``integer`` or ``boolean``, ``additionalProperties:
false``, ``minimum`` on integers and ``default``. That is all our specs need,
and a full validator would be a dependency for no gain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_TYPE_NAMES = {"string": "a string", "integer": "an integer", "boolean": "a boolean"}


def validate(tool: str, schema: Mapping[str, Any], arguments: object) -> dict[str, Any]:
    """Check ``arguments`` against ``schema`` and fill in defaults.

    Args:
        tool: the tool name, used as the prefix of every error.
        schema: an object schema in the supported subset.
        arguments: the parsed arguments of a call.

    Returns:
        A new dict: the arguments plus defaults for missing optional ones;
        integral floats such as ``2.0`` become ints (JSON does not tell them apart).

    Raises:
        ValueError: every problem found, joined by ``"; "``, each starting
            with ``"<tool>: "``.
    """
    if not isinstance(arguments, Mapping):
        raise ValueError(f"{tool}: arguments must be a JSON object")
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = schema.get("required", ())
    errors = [f"{tool}: missing required argument {n!r}" for n in required if n not in arguments]
    if schema.get("additionalProperties") is False:
        errors += [f"{tool}: unexpected argument {n!r}" for n in arguments if n not in properties]
    result: dict[str, Any] = {}
    for name, prop in properties.items():
        if name not in arguments:
            if "default" in prop:
                result[name] = prop["default"]
            continue
        value, problem = _check_value(arguments[name], prop)
        if problem:
            errors.append(f"{tool}: {name!r} {problem}")
        result[name] = value
    if errors:
        raise ValueError("; ".join(errors))
    return result


def _check_value(value: Any, prop: Mapping[str, Any]) -> tuple[Any, str | None]:
    kind = str(prop.get("type", ""))
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        value = int(value)
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
    }.get(kind, True)
    if not ok:
        return value, f"must be {_TYPE_NAMES[kind]}"
    minimum = prop.get("minimum")
    if kind == "integer" and minimum is not None and value < minimum:
        return value, f"must be >= {minimum}"
    return value, None
