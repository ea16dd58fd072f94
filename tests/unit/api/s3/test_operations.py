"""operations.S3_OPERATIONS is botocore's S3 model, to the letter; ``python -m`` prints it."""

from __future__ import annotations

import botocore.session

from strata.api.s3.operations import S3_OPERATIONS
from strata.api.s3.routes import BUCKET, OBJECT, SERVICE, SUBRESOURCES


def from_botocore() -> dict[tuple[str, str, str | None], str]:
    """(method, target, subresource) -> operation, for every operation in botocore's model."""
    model = botocore.session.get_session().get_service_model("s3")
    found: dict[tuple[str, str, str | None], str] = {}
    for name in model.operation_names:
        operation = model.operation_model(name)
        path, _, query = operation.http["requestUri"].partition("?")
        if path == "/":
            target = SERVICE
        elif "{Key+}" in path:
            target = OBJECT
        elif path == "/{Bucket}":
            target = BUCKET
        else:
            continue  # WriteGetObjectResponse: a path of its own, not an S3 resource
        selectors = [p.split("=")[0] for p in query.split("&") if p and not p.startswith("x-id")]
        shape = operation.input_shape
        if shape is not None:
            selectors += [
                member.serialization["name"]
                for member_name, member in shape.members.items()
                if member.serialization.get("location") == "querystring"
                and member_name in shape.required_members
                and member.serialization["name"] in SUBRESOURCES
            ]
        key = (operation.http["method"], target, selectors[0] if selectors else None)
        found.setdefault(key, name)
    return dict(sorted(found.items(), key=lambda item: (item[0][1], str(item[0][2]), item[0][0])))


def test_operations_are_botocores() -> None:
    assert from_botocore() == S3_OPERATIONS


def test_every_subresource_of_the_model_is_known() -> None:
    assert {sub for _, _, sub in S3_OPERATIONS if sub is not None} <= SUBRESOURCES


if __name__ == "__main__":
    for key, name in from_botocore().items():
        print(f"    {key!r}: {name!r},")
