"""IAM ARNs as AWS writes them, and the parse of a managed policy's ARN."""

from __future__ import annotations


def user_arn(account_id: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:user{path}{name}"


def group_arn(account_id: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:group{path}{name}"


def role_arn(account_id: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:role{path}{name}"


def policy_arn(account_id: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:policy{path}{name}"


def assumed_role_arn(account_id: str, role_name: str, session_name: str) -> str:
    return f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"


def parse_policy_arn(arn: str) -> tuple[str, str, str] | None:
    """(account, path, name) of ``arn:aws:iam::<account>:policy<path><name>``; else None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "iam"] or parts[3] != "":
        return None
    resource = parts[5]
    if not resource.startswith("policy/"):
        return None
    path, _, name = resource[len("policy") :].rpartition("/")
    return parts[4], path + "/", name
