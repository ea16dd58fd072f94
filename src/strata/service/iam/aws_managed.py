"""AWS managed policies users attach by ARN (``arn:aws:iam::aws:policy/<name>``): a few
common ones, with AWS's documents and default versions. They are read-only, as on AWS:
listed with Scope=AWS (or All), readable, attachable; never created, changed or deleted.
"""

from __future__ import annotations

import json
from typing import Final

from strata.service.iam.records import ManagedPolicyRecord, PolicyVersion

ACCOUNT: Final = "aws"  # the account part of their ARNs


def _document(actions: str | list[str]) -> str:
    statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _policy(
    name: str, policy_id: str, version: str, created_s: float, updated_s: float, document: str,
    description: str,
) -> ManagedPolicyRecord:  # fmt: skip
    return ManagedPolicyRecord(
        name, policy_id, "/", created_s, updated_s, version,
        [PolicyVersion(version, document, updated_s)], int(version[1:]) + 1, description,
    )  # fmt: skip


AWS_MANAGED: Final[dict[str, ManagedPolicyRecord]] = {
    policy.name: policy
    for policy in (
        _policy(
            "AdministratorAccess", "ANPAIWMBCKSKIEE64ZLYK", "v1", 1423673445.0, 1423673445.0,
            _document("*"), "Provides full access to AWS services and resources.",
        ),
        _policy(
            "AmazonS3FullAccess", "ANPAIFIR6V6BVTRAHWINE", "v2", 1423673445.0, 1632254512.0,
            _document(["s3:*", "s3-object-lambda:*"]), "Provides full access to all buckets.",
        ),
        _policy(
            "AmazonS3ReadOnlyAccess", "ANPAIZTJ4DXE7G6AGAE6M", "v3", 1423248012.0, 1691703060.0,
            _document(
                ["s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*",
                 "s3-object-lambda:List*"]
            ),
            "Provides read only access to all buckets via the AWS Management Console.",
        ),
    )
}  # fmt: skip


def is_aws_managed(policy: ManagedPolicyRecord) -> bool:
    return AWS_MANAGED.get(policy.name) is policy
