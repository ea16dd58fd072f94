"""IAM handlers: roles, their trust policies and tags."""

from __future__ import annotations

from strata.api.iam.context import Call, Result, page, role_value, tags_value
from strata.api.query import string_list, tag_list
from strata.service.iam.records import RoleRecord


def _name_key(role: RoleRecord) -> str:
    return role.name.lower()


async def create_role(call: Call) -> Result:
    name = call.params["RoleName"]
    path = call.params.get("Path", "/")
    call.authorize(f"arn:aws:iam::{call.services.account_id}:role{path}{name}")
    role = await call.services.roles.create(
        name,
        call.params["AssumeRolePolicyDocument"],
        path,
        call.params.get("Description", ""),
        int(call.params.get("MaxSessionDuration") or 3600),
        tag_list(call.params),
    )
    return {"Role": role_value(call.services.account_id, role, full=False)}


async def get_role(call: Call) -> Result:
    name = call.params["RoleName"]
    call.authorize(call.role_arn(name))
    return {"Role": role_value(call.services.account_id, call.services.roles.get(name))}


async def list_roles(call: Call) -> Result:
    call.authorize(call.account_resource("role"))
    roles = call.services.roles.under(call.params.get("PathPrefix", "/"))
    account = call.services.account_id
    return page(
        roles, call.params, "Roles", lambda r: role_value(account, r, full=False), _name_key
    )


async def update_role(call: Call) -> Result:
    name = call.params["RoleName"]
    call.authorize(call.role_arn(name))
    duration = call.params.get("MaxSessionDuration")
    await call.services.roles.update(
        name, call.params.get("Description"), int(duration) if duration else None
    )
    return {}


async def update_role_description(call: Call) -> Result:
    name = call.params["RoleName"]
    call.authorize(call.role_arn(name))
    await call.services.roles.update(name, call.params["Description"], None)
    return {"Role": role_value(call.services.account_id, call.services.roles.get(name))}


async def delete_role(call: Call) -> Result:
    name = call.params["RoleName"]
    call.authorize(call.role_arn(name))
    await call.services.roles.delete(name)
    return None


async def update_assume_role_policy(call: Call) -> Result:
    name = call.params["RoleName"]
    call.authorize(call.role_arn(name))
    await call.services.roles.update_trust(name, call.params["PolicyDocument"])
    return None


async def tag_role(call: Call) -> Result:
    name = call.params["RoleName"]
    call.authorize(call.role_arn(name))
    await call.services.roles.tag(name, tag_list(call.params))
    return None


async def untag_role(call: Call) -> Result:
    name = call.params["RoleName"]
    call.authorize(call.role_arn(name))
    await call.services.roles.untag(name, string_list(call.params, "TagKeys"))
    return None


async def list_role_tags(call: Call) -> Result:
    name = call.params["RoleName"]
    call.authorize(call.role_arn(name))
    tags = call.services.roles.get(name).tags
    return page(tags, call.params, "Tags", lambda t: tags_value([t])[0], lambda t: t[0])


HANDLERS = {
    "CreateRole": create_role,
    "GetRole": get_role,
    "ListRoles": list_roles,
    "UpdateRole": update_role,
    "UpdateRoleDescription": update_role_description,
    "DeleteRole": delete_role,
    "UpdateAssumeRolePolicy": update_assume_role_policy,
    "TagRole": tag_role,
    "UntagRole": untag_role,
    "ListRoleTags": list_role_tags,
}
