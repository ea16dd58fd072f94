"""AWS's SerializationException: every member of a request checked for its JSON type.

AWS deserialises a request into typed (Java) objects before anything else looks at it, so a
value of the wrong JSON type anywhere, at any depth, is refused with a
SerializationException before any ValidationException. ``check_types`` does the same from
``shapes.SHAPES`` (botocore's model), once per request, so the service only ever sees the
types the model promises. Messages are AWS's, as dynalite's test suite records them; they
depend on where the value sits: a structure member ("field") or a list element or map value
("value"). Unknown members are ignored and ``null`` is an absent member, as AWS does.

Attribute values are recursive and hot (every item is made of them), so they have their own
walker; it also refuses nesting beyond DynamoDB's 32 levels, with the service's message,
before anything recurses further.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from strata.api.dynamodb.shapes import INPUTS, SHAPES
from strata.service.tables.errors import SerializationError, ValidationError
from strata.service.tables.values import MSG_NESTING, NESTING_LEVELS_MAX

Check = Callable[[Any, bool], None]
"""``check(value, element)``: raise unless ``value`` has the shape's JSON type.

``element`` is True for a list element or map value, False for a structure member.
"""

_JAVA_PACKAGE: Final = "com.amazonaws.dynamodb.v20120810."
_JAVA_SCALARS: Final = {
    "string": "java.lang.String",
    "integer": "java.lang.Integer",
    "long": "java.lang.Long",
    "boolean": "java.lang.Boolean",
    "blob": "java.nio.ByteBuffer",
    "timestamp": "java.util.Date",
}
_UNEXPECTED_FIELD: Final = "Unexpected field type"
_UNEXPECTED_VALUE: Final = "Unexpected value type in payload"
_MAP_FOUND: Final = "Start of structure or map found where not expected"
# AWS's deserialiser fails this way on a scalar where a list or map of generic type sits
# inside another collection (a ClassCastException's text, as AWS sends it).
_CAST: Final = (
    "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to "
    "class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and "
    "java.lang.Class are in module java.base of loader 'bootstrap')"
)
_BLOB_ONLY: Final = "only base-64-encoded strings are convertible to bytes"


def _token(value: Any) -> str:
    """The JSON token AWS names in its messages."""
    if value is True:
        return "TRUE_VALUE"
    if value is False:
        return "FALSE_VALUE"
    if isinstance(value, float):
        return "DECIMAL_VALUE"
    if isinstance(value, int):
        return "NUMBER_VALUE"
    return "STRING_VALUE"


def _collection(java: str, value: Any) -> str | None:
    """The message for a list or map where a scalar or structure belongs; None for scalars."""
    if isinstance(value, dict):
        return _MAP_FOUND
    if isinstance(value, list):
        return f"Unrecognized collection type class {java}"
    return None


def scalar_message(kind: str, value: Any) -> str:
    """AWS's message for ``value`` where a scalar of ``kind`` belongs."""
    found = _collection(_JAVA_SCALARS[kind], value)
    if found is not None:
        return found
    if kind == "blob":
        return _BLOB_ONLY
    if kind == "boolean":
        if isinstance(value, str):
            return "Unexpected token received from parser"
        return f"{_token(value)} cannot be converted to Boolean"
    if kind == "string":
        return f"{_token(value)} cannot be converted to String"
    return f"{_token(value)} cannot be converted to {_JAVA_SCALARS[kind].rpartition('.')[2]}"


def structure_message(name: str, value: Any, element: bool) -> str:
    if isinstance(value, list):
        return f"Unrecognized collection type class {_JAVA_PACKAGE}{name}"
    return _UNEXPECTED_VALUE if element else _UNEXPECTED_FIELD


def list_message(value: Any, element: bool) -> str:
    if isinstance(value, dict):
        return _MAP_FOUND
    return _CAST if element else _UNEXPECTED_FIELD


def map_message(java_value: str, value: Any, element: bool) -> str:
    if isinstance(value, list):
        return f"Unrecognized collection type java.util.Map<java.lang.String, {java_value}>"
    return _CAST if element else _UNEXPECTED_FIELD


def java_type(target: str) -> str:
    """The Java type AWS deserialises ``target`` into (it names it in some messages)."""
    if target in _JAVA_SCALARS:
        return _JAVA_SCALARS[target]
    kind, children = SHAPES[target]
    if kind == "list":
        return f"java.util.List<{java_type(children[0][1])}>"
    if kind == "map":
        return f"java.util.Map<java.lang.String, {java_type(children[0][1])}>"
    return f"{_JAVA_PACKAGE}{target}"


# ---------------------------------------------------------------------------------------
# Scalars


def _scalar(kind: str, python_type: type) -> Check:
    def check(value: Any, element: bool) -> None:
        if type(value) is not python_type:  # exact: a bool is not an integer
            raise SerializationError(scalar_message(kind, value))

    return check


def _timestamp(value: Any, element: bool) -> None:
    """A timestamp travels as epoch seconds, whole or fractional."""
    if type(value) not in (int, float):
        raise SerializationError(scalar_message("timestamp", value))


_SCALAR_CHECKS: Final[dict[str, Check]] = {
    "string": _scalar("string", str),
    "blob": _scalar("blob", str),
    "boolean": _scalar("boolean", bool),
    "integer": _scalar("integer", int),
    "long": _scalar("long", int),
    "timestamp": _timestamp,
}


# ---------------------------------------------------------------------------------------
# Attribute values


def _attribute_value(value: Any, element: bool, depth: int = 0) -> None:
    """The AttributeValue shape, with DynamoDB's nesting limit (as ``values.validate_value``)."""
    if type(value) is not dict:
        raise SerializationError(structure_message("AttributeValue", value, element))
    for kind, raw in value.items():
        if raw is None:
            continue
        if kind == "S" or kind == "N":
            if type(raw) is not str:
                raise SerializationError(scalar_message("string", raw))
        elif kind == "M":
            if type(raw) is not dict:
                raise SerializationError(map_message(_ATTRIBUTE_VALUE_JAVA, raw, False))
            if depth >= NESTING_LEVELS_MAX:
                raise ValidationError(MSG_NESTING)
            for child in raw.values():
                _attribute_value_element(child, depth + 1)
        elif kind == "L":
            if type(raw) is not list:
                raise SerializationError(list_message(raw, False))
            if depth >= NESTING_LEVELS_MAX:
                raise ValidationError(MSG_NESTING)
            for child in raw:
                _attribute_value_element(child, depth + 1)
        elif kind == "BOOL" or kind == "NULL":
            if type(raw) is not bool:
                raise SerializationError(scalar_message("boolean", raw))
        elif kind == "B":
            if type(raw) is not str:
                raise SerializationError(scalar_message("blob", raw))
        elif kind == "SS" or kind == "NS" or kind == "BS":
            if type(raw) is not list:
                raise SerializationError(list_message(raw, False))
            member = "blob" if kind == "BS" else "string"
            for child in raw:
                if type(child) is not str:
                    raise SerializationError(
                        scalar_message(member, child) if child is not None else _UNEXPECTED_VALUE
                    )


def _attribute_value_element(value: Any, depth: int) -> None:
    if value is None:
        raise SerializationError(_UNEXPECTED_VALUE)
    _attribute_value(value, True, depth)


_ATTRIBUTE_VALUE_JAVA: Final = f"{_JAVA_PACKAGE}AttributeValue"


# ---------------------------------------------------------------------------------------
# Structures, lists and maps, compiled once from SHAPES


def _compile() -> dict[str, Check]:
    checks: dict[str, Check] = {"AttributeValue": _attribute_value, **_SCALAR_CHECKS}

    def get(target: str) -> Check:
        # Shapes refer to each other only through AttributeValue (already compiled), so
        # compiling depth first terminates.
        if target not in checks:
            checks[target] = build(target)
        return checks[target]

    def build(name: str) -> Check:
        kind, children = SHAPES[name]
        if kind == "structure":
            return _structure(name, {member: get(target) for member, target in children})
        if kind == "list":
            return _list(get(children[0][1]))
        return _map(java_type(children[0][1]), get(children[0][1]))

    for name in sorted(SHAPES):
        get(name)
    return checks


def _structure(name: str, members: dict[str, Check]) -> Check:
    def check(value: Any, element: bool) -> None:
        if type(value) is not dict:
            raise SerializationError(structure_message(name, value, element))
        for key, child in value.items():
            member = members.get(key)
            if member is not None and child is not None:
                member(child, False)

    return check


def _list(member: Check) -> Check:
    def check(value: Any, element: bool) -> None:
        if type(value) is not list:
            raise SerializationError(list_message(value, element))
        for child in value:
            if child is None:
                raise SerializationError(_UNEXPECTED_VALUE)
            member(child, True)

    return check


def _map(java_value: str, value_check: Check) -> Check:
    def check(value: Any, element: bool) -> None:
        if type(value) is not dict:
            raise SerializationError(map_message(java_value, value, element))
        for child in value.values():
            if child is None:
                raise SerializationError(_UNEXPECTED_VALUE)
            value_check(child, True)

    return check


_CHECKS: Final = _compile()
_BY_OPERATION: Final = {operation: _CHECKS[shape] for operation, shape in INPUTS.items()}


def check_types(operation: str, req: dict[str, Any]) -> None:
    """Raise SerializationError for the first member of ``req`` of the wrong JSON type."""
    check = _BY_OPERATION.get(operation)
    if check is not None:
        check(req, False)
