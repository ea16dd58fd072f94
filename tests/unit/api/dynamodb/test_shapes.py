"""shapes.SHAPES is botocore's DynamoDB model, to the letter; ``python -m`` this file prints it."""

from __future__ import annotations

from typing import Any

import botocore.session

from strata.api.dynamodb.model import MEMBERS
from strata.api.dynamodb.shapes import INPUTS, SHAPES

SCALARS = frozenset({"string", "integer", "long", "boolean", "blob", "double", "timestamp"})


def from_botocore() -> tuple[dict[str, str], dict[str, tuple[str, tuple[tuple[str, str], ...]]]]:
    """(operation -> input shape, shape -> (kind, ((member, target), ...))) for MEMBERS' ops."""
    model = botocore.session.get_session().get_service_model("dynamodb")
    shapes: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {}

    def target(shape: Any) -> str:
        if shape.type_name in SCALARS:
            return str(shape.type_name)
        if shape.name not in shapes:
            shapes[shape.name] = ("pending", ())
            if shape.type_name == "structure":
                children = tuple((name, target(child)) for name, child in shape.members.items())
            elif shape.type_name == "list":
                children = (("member", target(shape.member)),)
            else:
                assert shape.type_name == "map", shape.type_name
                children = (("value", target(shape.value)),)
            shapes[shape.name] = (shape.type_name, children)
        return str(shape.name)

    inputs = {op: target(model.operation_model(op).input_shape) for op in sorted(MEMBERS)}
    return inputs, dict(sorted(shapes.items()))


def test_shapes_are_botocores() -> None:
    inputs, shapes = from_botocore()
    assert inputs == INPUTS
    assert shapes == SHAPES


def render() -> str:
    inputs, shapes = from_botocore()
    lines = ["INPUTS: Final[dict[str, str]] = {"]
    lines += [f"    {op!r}: {shape!r}," for op, shape in inputs.items()]
    lines += ["}", "", "SHAPES: Final[dict[str, Shape]] = {"]
    for name, (kind, children) in shapes.items():
        lines.append(f"    {name!r}: ({kind!r}, {children!r}),")
    lines.append("}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render())
