"""IAM handlers: customer managed policies, their versions and tags, and who uses them."""

from __future__ import annotations

from strata.api.iam.context import (
    Call,
    Result,
    page,
    policy_value,
    tags_value,
    version_value,
)
from strata.api.query import Value, flag, string_list, tag_list
from strata.service.iam.records import ManagedPolicyRecord


def _name_key(policy: ManagedPolicyRecord) -> str:
    return policy.name.lower()


async def create_policy(call: Call) -> Result:
    name = call.params["PolicyName"]
    path = call.params.get("Path", "/")
    call.authorize(f"arn:aws:iam::{call.services.account_id}:policy{path}{name}")
    policy = await call.services.managed.create(
        name,
        call.params["PolicyDocument"],
        path,
        call.params.get("Description", ""),
        tag_list(call.params),
    )
    return {"Policy": policy_value(call.services, policy)}


async def get_policy(call: Call) -> Result:
    arn = call.params["PolicyArn"]
    call.authorize(arn)
    return {"Policy": policy_value(call.services, call.services.managed.get(arn))}


async def list_policies(call: Call) -> Result:
    call.authorize(call.account_resource("policy"))
    found = call.services.managed.under(
        call.params.get("PathPrefix", "/"),
        flag(call.params, "OnlyAttached"),
        call.params.get("Scope", "All"),
    )
    services = call.services
    return page(
        found, call.params, "Policies", lambda p: policy_value(services, p, full=False), _name_key
    )


async def delete_policy(call: Call) -> Result:
    arn = call.params["PolicyArn"]
    call.authorize(arn)
    await call.services.managed.delete(arn)
    return None


async def create_policy_version(call: Call) -> Result:
    arn = call.params["PolicyArn"]
    call.authorize(arn)
    version = await call.services.managed.create_version(
        arn, call.params["PolicyDocument"], flag(call.params, "SetAsDefault")
    )
    policy = call.services.managed.get(arn)
    return {"PolicyVersion": version_value(policy, version, with_document=False)}


async def get_policy_version(call: Call) -> Result:
    arn = call.params["PolicyArn"]
    call.authorize(arn)
    version = call.services.managed.version(arn, call.params["VersionId"])
    policy = call.services.managed.get(arn)
    return {"PolicyVersion": version_value(policy, version, with_document=True)}


async def list_policy_versions(call: Call) -> Result:
    arn = call.params["PolicyArn"]
    call.authorize(arn)
    policy = call.services.managed.get(arn)
    newest_first = list(reversed(policy.versions))
    return page(
        newest_first,
        call.params,
        "Versions",
        lambda v: version_value(policy, v, with_document=False),
        lambda v: f"{10**9 - int(v.version_id[1:]):010d}",
    )


async def delete_policy_version(call: Call) -> Result:
    arn = call.params["PolicyArn"]
    call.authorize(arn)
    await call.services.managed.delete_version(arn, call.params["VersionId"])
    return None


async def set_default_policy_version(call: Call) -> Result:
    arn = call.params["PolicyArn"]
    call.authorize(arn)
    await call.services.managed.set_default(arn, call.params["VersionId"])
    return None


async def tag_policy(call: Call) -> Result:
    arn = call.params["PolicyArn"]
    call.authorize(arn)
    await call.services.managed.tag(arn, tag_list(call.params))
    return None


async def untag_policy(call: Call) -> Result:
    arn = call.params["PolicyArn"]
    call.authorize(arn)
    await call.services.managed.untag(arn, string_list(call.params, "TagKeys"))
    return None


async def list_policy_tags(call: Call) -> Result:
    arn = call.params["PolicyArn"]
    call.authorize(arn)
    tags = call.services.managed.get(arn).tags
    return page(tags, call.params, "Tags", lambda t: tags_value([t])[0], lambda t: t[0])


async def list_entities_for_policy(call: Call) -> Result:
    arn = call.params["PolicyArn"]
    call.authorize(arn)
    call.services.managed.get(arn)
    directory = call.services.directory
    wanted = call.params.get("EntityFilter")
    prefix = call.params.get("PathPrefix", "/")
    users: list[Value] = []
    groups: list[Value] = []
    roles: list[Value] = []
    if wanted in (None, "User"):
        users = [
            {"UserName": u.name, "UserId": u.user_id}
            for u in sorted(directory.users(), key=lambda u: u.name.lower())
            if arn in u.attached and u.path.startswith(prefix)
        ]
    if wanted in (None, "Group"):
        groups = [
            {"GroupName": g.name, "GroupId": g.group_id}
            for g in sorted(directory.groups(), key=lambda g: g.name.lower())
            if arn in g.attached and g.path.startswith(prefix)
        ]
    if wanted in (None, "Role"):
        roles = [
            {"RoleName": r.name, "RoleId": r.role_id}
            for r in sorted(directory.roles(), key=lambda r: r.name.lower())
            if arn in r.attached and r.path.startswith(prefix)
        ]
    return {
        "PolicyGroups": groups,
        "PolicyUsers": users,
        "PolicyRoles": roles,
        "IsTruncated": False,
    }


HANDLERS = {
    "CreatePolicy": create_policy,
    "GetPolicy": get_policy,
    "ListPolicies": list_policies,
    "DeletePolicy": delete_policy,
    "CreatePolicyVersion": create_policy_version,
    "GetPolicyVersion": get_policy_version,
    "ListPolicyVersions": list_policy_versions,
    "DeletePolicyVersion": delete_policy_version,
    "SetDefaultPolicyVersion": set_default_policy_version,
    "TagPolicy": tag_policy,
    "UntagPolicy": untag_policy,
    "ListPolicyTags": list_policy_tags,
    "ListEntitiesForPolicy": list_entities_for_policy,
}
