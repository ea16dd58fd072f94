"""IAM handlers: users, their tags and their access keys."""

from __future__ import annotations

from strata.api.iam import root_keys
from strata.api.iam.context import Call, Result, page, tags_value, user_value
from strata.api.iam.root_keys import RootKeys
from strata.api.query import Value, string_list, tag_list, timestamp
from strata.service.iam.errors import NoSuchEntity
from strata.service.iam.records import AccessKeyRecord, UserRecord


def _name_key(user: UserRecord) -> str:
    return user.name.lower()


async def create_user(call: Call) -> Result:
    name = call.params["UserName"]
    path = call.params.get("Path", "/")
    call.authorize(f"arn:aws:iam::{call.services.account_id}:user{path}{name}")
    user = await call.services.users.create(name, path, tag_list(call.params))
    return {"User": user_value(call.services.account_id, user, with_tags=True)}


async def get_user(call: Call) -> Result:
    name = call.params.get("UserName")
    account = call.services.account_id
    if name is None and call.principal.user_name is None:
        call.authorize(call.principal.arn)
        if not call.principal.root:
            call.caller_user_name()  # an assumed role must name the user
        return {
            "User": {
                "UserId": account,
                "Arn": call.principal.arn,
                "CreateDate": timestamp(0),
            }
        }
    name = name or call.caller_user_name()
    call.authorize(call.user_arn(name))
    return {"User": user_value(account, call.services.users.get(name), with_tags=True)}


async def list_users(call: Call) -> Result:
    call.authorize(call.account_resource("user"))
    users = call.services.users.under(call.params.get("PathPrefix", "/"))
    account = call.services.account_id
    return page(users, call.params, "Users", lambda u: user_value(account, u), _name_key)


async def update_user(call: Call) -> Result:
    name = call.params["UserName"]
    call.authorize(call.user_arn(name))
    await call.services.users.update(
        name, call.params.get("NewUserName"), call.params.get("NewPath")
    )
    return None


async def delete_user(call: Call) -> Result:
    name = call.params["UserName"]
    call.authorize(call.user_arn(name))
    await call.services.users.delete(name)
    return None


async def tag_user(call: Call) -> Result:
    name = call.params["UserName"]
    call.authorize(call.user_arn(name))
    await call.services.users.tag(name, tag_list(call.params))
    return None


async def untag_user(call: Call) -> Result:
    name = call.params["UserName"]
    call.authorize(call.user_arn(name))
    await call.services.users.untag(name, string_list(call.params, "TagKeys"))
    return None


async def list_user_tags(call: Call) -> Result:
    name = call.params["UserName"]
    call.authorize(call.user_arn(name))
    tags = call.services.users.get(name).tags
    return page(tags, call.params, "Tags", lambda t: tags_value([t])[0], lambda t: t[0])


# Access keys: UserName omitted means the calling user.


def _key_value(key: AccessKeyRecord, with_secret: bool) -> dict[str, Value]:
    value: dict[str, Value] = {"UserName": key.user_name, "AccessKeyId": key.access_key}
    value["Status"] = key.status
    if with_secret:
        value["SecretAccessKey"] = key.secret_key
    value["CreateDate"] = timestamp(key.created_s)
    return value


def _root_keys(call: Call) -> RootKeys | None:
    """The root's own keys: UserName omitted by the root (the key file)."""
    if call.principal.root and "UserName" not in call.params:
        return call.services.root_keys
    return None


async def create_access_key(call: Call) -> Result:
    if (roots := _root_keys(call)) is not None:
        return await root_keys.create(call, roots)
    name = call.params.get("UserName") or call.caller_user_name()
    call.authorize(call.user_arn(name))
    key = await call.services.users.create_key(name)
    return {"AccessKey": _key_value(key, with_secret=True)}


async def list_access_keys(call: Call) -> Result:
    if (roots := _root_keys(call)) is not None:
        return await root_keys.listed(call, roots)
    name = call.params.get("UserName") or call.caller_user_name()
    call.authorize(call.user_arn(name))
    keys = call.services.users.keys(name)
    result = page(
        keys,
        call.params,
        "AccessKeyMetadata",
        lambda k: _key_value(k, with_secret=False),
        lambda k: k.access_key,
    )
    return result


async def update_access_key(call: Call) -> Result:
    name = call.params.get("UserName") or call.caller_user_name()
    call.authorize(call.user_arn(name))
    await call.services.users.update_key(name, call.params["AccessKeyId"], call.params["Status"])
    return None


async def delete_access_key(call: Call) -> Result:
    if (roots := _root_keys(call)) is not None:
        return await root_keys.delete(call, roots)
    name = call.params.get("UserName") or call.caller_user_name()
    call.authorize(call.user_arn(name))
    await call.services.users.delete_key(name, call.params["AccessKeyId"])
    await call.services.keychain.usage.forget(call.params["AccessKeyId"])
    return None


async def get_access_key_last_used(call: Call) -> Result:
    access_key = call.params["AccessKeyId"]
    key = call.services.directory.access_key(access_key)
    if key is None:
        raise NoSuchEntity(f"The Access Key with id {access_key} cannot be found.")
    call.authorize(call.user_arn(key.user_name))
    usage = call.services.keychain.usage
    await usage.flush()  # what this answer shows is on disk: a crash cannot take it back
    used = usage.get(access_key)
    last: dict[str, Value] = (
        {"LastUsedDate": timestamp(used.when_s), "ServiceName": used.service, "Region": used.region}
        if used is not None
        else {"ServiceName": "N/A", "Region": "N/A"}
    )
    return {"UserName": key.user_name, "AccessKeyLastUsed": last}


HANDLERS = {
    "CreateUser": create_user,
    "GetUser": get_user,
    "ListUsers": list_users,
    "UpdateUser": update_user,
    "DeleteUser": delete_user,
    "TagUser": tag_user,
    "UntagUser": untag_user,
    "ListUserTags": list_user_tags,
    "CreateAccessKey": create_access_key,
    "ListAccessKeys": list_access_keys,
    "UpdateAccessKey": update_access_key,
    "DeleteAccessKey": delete_access_key,
    "GetAccessKeyLastUsed": get_access_key_last_used,
}
