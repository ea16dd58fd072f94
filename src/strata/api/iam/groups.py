"""IAM handlers: groups and their members."""

from __future__ import annotations

from strata.api.iam.context import Call, Result, group_value, page, user_value
from strata.service.iam.records import GroupRecord


def _name_key(group: GroupRecord) -> str:
    return group.name.lower()


async def create_group(call: Call) -> Result:
    name = call.params["GroupName"]
    path = call.params.get("Path", "/")
    call.authorize(f"arn:aws:iam::{call.services.account_id}:group{path}{name}")
    group = await call.services.groups.create(name, path)
    return {"Group": group_value(call.services.account_id, group)}


async def get_group(call: Call) -> Result:
    name = call.params["GroupName"]
    call.authorize(call.group_arn(name))
    group = call.services.groups.get(name)
    account = call.services.account_id
    members = call.services.groups.members(name)
    result = page(
        members, call.params, "Users", lambda u: user_value(account, u), lambda u: u.name.lower()
    )
    return {"Group": group_value(account, group), **result}


async def list_groups(call: Call) -> Result:
    call.authorize(call.account_resource("group"))
    groups = call.services.groups.under(call.params.get("PathPrefix", "/"))
    account = call.services.account_id
    return page(groups, call.params, "Groups", lambda g: group_value(account, g), _name_key)


async def update_group(call: Call) -> Result:
    name = call.params["GroupName"]
    call.authorize(call.group_arn(name))
    await call.services.groups.update(
        name, call.params.get("NewGroupName"), call.params.get("NewPath")
    )
    return None


async def delete_group(call: Call) -> Result:
    name = call.params["GroupName"]
    call.authorize(call.group_arn(name))
    await call.services.groups.delete(name)
    return None


async def add_user_to_group(call: Call) -> Result:
    name = call.params["GroupName"]
    call.authorize(call.group_arn(name))
    await call.services.groups.add_user(name, call.params["UserName"])
    return None


async def remove_user_from_group(call: Call) -> Result:
    name = call.params["GroupName"]
    call.authorize(call.group_arn(name))
    await call.services.groups.remove_user(name, call.params["UserName"])
    return None


async def list_groups_for_user(call: Call) -> Result:
    user_name = call.params["UserName"]
    call.authorize(call.user_arn(user_name))
    groups = call.services.groups.groups_for_user(user_name)
    account = call.services.account_id
    return page(groups, call.params, "Groups", lambda g: group_value(account, g), _name_key)


HANDLERS = {
    "CreateGroup": create_group,
    "GetGroup": get_group,
    "ListGroups": list_groups,
    "UpdateGroup": update_group,
    "DeleteGroup": delete_group,
    "AddUserToGroup": add_user_to_group,
    "RemoveUserFromGroup": remove_user_from_group,
    "ListGroupsForUser": list_groups_for_user,
}
