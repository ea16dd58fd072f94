"""What every IAM handler gets: the identity services, the caller, its parameters, and
the shapes IAM answers with (User, Group, Role, Policy, ...), paged as IAM pages."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeVar
from urllib.parse import quote

from strata.api.query import Value, timestamp

if TYPE_CHECKING:
    from strata.api.iam.root_keys import RootKeys
from strata.service.iam import arns
from strata.service.iam.access import AccessControl
from strata.service.iam.directory import Directory
from strata.service.iam.errors import IamValidationError
from strata.service.iam.groups import Groups
from strata.service.iam.holders import PolicyHolders
from strata.service.iam.keychain import KeyChain
from strata.service.iam.managed import ManagedPolicies
from strata.service.iam.principal import Principal
from strata.service.iam.records import (
    GroupRecord,
    ManagedPolicyRecord,
    PolicyVersion,
    RoleRecord,
    Tags,
    UserRecord,
)
from strata.service.iam.roles import Roles
from strata.service.iam.users import Users

T = TypeVar("T")
Result = dict[str, Value] | None
PAGE_DEFAULT: Final = 100


@dataclass
class IamServices:
    account_id: str
    directory: Directory
    users: Users
    groups: Groups
    managed: ManagedPolicies
    holders: PolicyHolders
    roles: Roles
    keychain: KeyChain
    access: AccessControl
    root_keys: RootKeys | None = None  # the root's key file (``api/iam/root_keys.py``)


@dataclass
class Call:
    services: IamServices
    principal: Principal
    action: str
    params: Mapping[str, str]

    def authorize(self, resource: str) -> None:
        self.services.access.authorize(self.principal, f"iam:{self.action}", resource)

    def user_arn(self, name: str) -> str:
        user = self.services.directory.user(name)
        path = user.path if user is not None else "/"
        return arns.user_arn(self.services.account_id, path, user.name if user else name)

    def group_arn(self, name: str) -> str:
        group = self.services.directory.group(name)
        path = group.path if group is not None else "/"
        return arns.group_arn(self.services.account_id, path, group.name if group else name)

    def role_arn(self, name: str) -> str:
        role = self.services.directory.role(name)
        path = role.path if role is not None else "/"
        return arns.role_arn(self.services.account_id, path, role.name if role else name)

    def account_resource(self, kind: str) -> str:
        """What IAM names as the resource of a List call: ``arn:aws:iam::<acct>:user/``."""
        return f"arn:aws:iam::{self.services.account_id}:{kind}/"

    def caller_user_name(self) -> str:
        """UserName omitted: the calling IAM user (root and roles must name one)."""
        if self.principal.user_name is None:
            raise IamValidationError("Must specify userName when calling with non-User credentials")
        return self.principal.user_name


def page(
    items: Sequence[T],
    params: Mapping[str, str],
    name: str,
    render: Callable[[T], Value],
    key: Callable[[T], str],
) -> dict[str, Value]:
    """One page of ``items`` (sorted by ``key``) from ``Marker``: IAM's MaxItems paging;
    the marker is the key of the first item of the next page."""
    size = int(params.get("MaxItems") or PAGE_DEFAULT)
    marker = params.get("Marker")
    start = 0
    if marker:
        start = next((i for i, item in enumerate(items) if key(item) >= marker), len(items))
    chunk = items[start : start + size]
    truncated = start + size < len(items)
    result: dict[str, Value] = {name: [render(item) for item in chunk], "IsTruncated": truncated}
    if truncated:
        result["Marker"] = key(items[start + size])
    return result


def tags_value(tags: Tags) -> list[Value]:
    return [{"Key": k, "Value": v} for k, v in tags]


def user_value(account_id: str, user: UserRecord, with_tags: bool = False) -> dict[str, Value]:
    value: dict[str, Value] = {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.user_id,
        "Arn": arns.user_arn(account_id, user.path, user.name),
        "CreateDate": timestamp(user.created_s),
    }
    if with_tags and user.tags:
        value["Tags"] = tags_value(user.tags)
    return value


def group_value(account_id: str, group: GroupRecord) -> dict[str, Value]:
    return {
        "Path": group.path,
        "GroupName": group.name,
        "GroupId": group.group_id,
        "Arn": arns.group_arn(account_id, group.path, group.name),
        "CreateDate": timestamp(group.created_s),
    }


def role_value(account_id: str, role: RoleRecord, full: bool = True) -> dict[str, Value]:
    value: dict[str, Value] = {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": arns.role_arn(account_id, role.path, role.name),
        "CreateDate": timestamp(role.created_s),
        "AssumeRolePolicyDocument": quote(role.trust_policy, safe=""),
        "MaxSessionDuration": role.max_session_s,
    }
    if role.description:
        value["Description"] = role.description
    if full:
        if role.tags:
            value["Tags"] = tags_value(role.tags)
        value["RoleLastUsed"] = {}
    return value


def policy_value(
    services: IamServices, policy: ManagedPolicyRecord, full: bool = True
) -> dict[str, Value]:
    arn = services.managed.arn(policy)
    value: dict[str, Value] = {
        "PolicyName": policy.name,
        "PolicyId": policy.policy_id,
        "Arn": arn,
        "Path": policy.path,
        "DefaultVersionId": policy.default_version,
        "AttachmentCount": services.directory.attachment_count(arn),
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": timestamp(policy.created_s),
        "UpdateDate": timestamp(policy.updated_s),
    }
    if full and policy.description:
        value["Description"] = policy.description
    if full and policy.tags:
        value["Tags"] = tags_value(policy.tags)
    return value


def version_value(
    policy: ManagedPolicyRecord, version: PolicyVersion, with_document: bool
) -> dict[str, Value]:
    value: dict[str, Value] = {}
    if with_document:
        value["Document"] = quote(version.document, safe="")
    value["VersionId"] = version.version_id
    value["IsDefaultVersion"] = version.version_id == policy.default_version
    value["CreateDate"] = timestamp(version.created_s)
    return value
