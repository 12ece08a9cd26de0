"""Tool input schemas cleaned of keywords that OpenAI-style servers reject.

Stripped wherever a schema may appear (never from a `properties` map, whose keys are names):

- `$schema`, `$id`, `$comment`: meta keywords strict servers (Gemini, some vLLM guided
  decoding back-ends) refuse;
- `format` on strings other than `date-time` and `enum`, the two every server accepts
  (`uri`, `email`, `uuid`… are hints, not constraints a model relies on).

Everything else is kept as written.
"""

from __future__ import annotations

from typing import Any

_DROPPED = frozenset({"$schema", "$id", "$comment"})
_PORTABLE_FORMATS = frozenset({"date-time", "enum"})
_SCHEMA_VALUED = frozenset(
    {
        "items",
        "additionalItems",
        "additionalProperties",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contains",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
    }
)
_SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems", "items"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})


def clean_schema(schema: Any) -> Any:
    """`schema` without the keywords above; non-dict values come back unchanged."""
    if not isinstance(schema, dict):
        return schema
    return {
        key: _clean_value(key, value)
        for key, value in schema.items()
        if key not in _DROPPED and not _is_unportable_format(schema, key)
    }


def _clean_value(key: str, value: Any) -> Any:
    if key in _SCHEMA_VALUED and isinstance(value, dict):
        return clean_schema(value)
    if key in _SCHEMA_LISTS and isinstance(value, list):
        return [clean_schema(item) for item in value]
    if key in _SCHEMA_MAPS and isinstance(value, dict):
        return {name: clean_schema(item) for name, item in value.items()}
    return value


def _is_unportable_format(schema: dict[str, Any], key: str) -> bool:
    if key != "format" or not _is_string_schema(schema):
        return False
    return schema[key] not in _PORTABLE_FORMATS


def _is_string_schema(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind)
