"""The KMS API with boto3's ``kms`` client: keys, aliases, states, rotation and their errors."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.kms.conftest import error_of

ACCOUNT = "000000000000"


def arn_of(kms: Any, key_id: str) -> str:
    arn: str = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    return arn


def test_create_and_describe(kms: Any) -> None:
    created = kms.create_key(Description="orders", Tags=[{"TagKey": "team", "TagValue": "a"}])
    meta = created["KeyMetadata"]
    assert meta["KeyState"] == "Enabled"
    assert meta["Enabled"] is True
    assert meta["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["KeyManager"] == "CUSTOMER"
    assert meta["Origin"] == "AWS_KMS"
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert meta["Arn"] == f"arn:aws:kms:us-east-1:{meta['AWSAccountId']}:key/{meta['KeyId']}"
    uuid.UUID(meta["KeyId"])
    described = kms.describe_key(KeyId=meta["Arn"])["KeyMetadata"]
    assert described["KeyId"] == meta["KeyId"]
    assert described["Description"] == "orders"
    assert described["CreationDate"] == meta["CreationDate"]
    tags = kms.list_resource_tags(KeyId=meta["KeyId"])["Tags"]
    assert tags == [{"TagKey": "team", "TagValue": "a"}]


def test_describe_missing_keys(kms: Any) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(ClientError) as caught:
        kms.describe_key(KeyId=missing)
    code, status, message = error_of(caught)
    assert (code, status) == ("NotFoundException", 400)
    assert message.startswith("Key 'arn:aws:kms:us-east-1:")
    assert message.endswith(f":key/{missing}' does not exist")
    with pytest.raises(ClientError) as caught:
        kms.describe_key(KeyId="not-a-key")
    assert error_of(caught) == ("NotFoundException", 400, "Invalid keyId 'not-a-key'")
    with pytest.raises(ClientError) as caught:
        kms.describe_key(KeyId="alias/nothing-here")
    code, _, message = error_of(caught)
    assert code == "NotFoundException"
    assert message.endswith(":alias/nothing-here is not found.")


def test_list_keys_pages(kms: Any) -> None:
    made = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(3)}
    seen: list[str] = []
    marker = None
    for _ in range(1000):
        page = kms.list_keys(Limit=2, **({"Marker": marker} if marker else {}))
        assert len(page["Keys"]) <= 2
        seen += [k["KeyId"] for k in page["Keys"]]
        for entry in page["Keys"]:
            assert entry["KeyArn"].endswith(f":key/{entry['KeyId']}")
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    assert made <= set(seen)
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)
    with pytest.raises(ClientError) as caught:
        kms.list_keys(Marker="garbage")
    assert error_of(caught)[:2] == ("InvalidMarkerException", 400)


def test_aliases(kms: Any, key_id: str) -> None:
    name = f"alias/t-{uuid.uuid4().hex[:10]}"
    kms.create_alias(AliasName=name, TargetKeyId=key_id)
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == key_id
    alias_arn = f"{arn_of(kms, key_id).split(':key/')[0]}:{name}"
    assert kms.describe_key(KeyId=alias_arn)["KeyMetadata"]["KeyId"] == key_id
    listed = kms.list_aliases(KeyId=key_id)["Aliases"]
    assert [(a["AliasName"], a["TargetKeyId"], a["AliasArn"]) for a in listed] == [
        (name, key_id, alias_arn)
    ]
    with pytest.raises(ClientError) as caught:
        kms.create_alias(AliasName=name, TargetKeyId=key_id)
    assert error_of(caught) == (
        "AlreadyExistsException",
        400,
        f"An alias with the name {alias_arn} already exists",
    )
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.update_alias(AliasName=name, TargetKeyId=other)
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == other
    assert kms.list_aliases(KeyId=key_id)["Aliases"] == []
    kms.delete_alias(AliasName=name)
    with pytest.raises(ClientError) as caught:
        kms.describe_key(KeyId=name)
    assert error_of(caught)[:2] == ("NotFoundException", 400)
    with pytest.raises(ClientError) as caught:
        kms.delete_alias(AliasName=name)
    assert error_of(caught) == ("NotFoundException", 400, f"Alias {alias_arn} is not found.")


def test_alias_errors(kms: Any, key_id: str) -> None:
    with pytest.raises(ClientError) as caught:
        kms.create_alias(AliasName="no-prefix", TargetKeyId=key_id)
    code, status, message = error_of(caught)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith('Alias must start with the prefix "alias/".')
    with pytest.raises(ClientError) as caught:
        kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=key_id)
    assert error_of(caught)[:2] == ("InvalidAliasNameException", 400)
    with pytest.raises(ClientError) as caught:
        kms.create_alias(AliasName="alias/bad name!", TargetKeyId=key_id)
    code, _, message = error_of(caught)
    assert code == "ValidationException"
    assert message == (
        "1 validation error detected: Value 'alias/bad name!' at 'aliasName' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: "
        "^[a-zA-Z0-9:/_-]+$"
    )
    name = f"alias/t-{uuid.uuid4().hex[:10]}"
    kms.create_alias(AliasName=name, TargetKeyId=key_id)
    with pytest.raises(ClientError) as caught:
        kms.create_alias(AliasName=f"{name}-2", TargetKeyId=name)
    assert error_of(caught) == (
        "ValidationException",
        400,
        "Aliases must refer to keys. Not aliases",
    )
    with pytest.raises(ClientError) as caught:
        kms.create_alias(AliasName=f"{name}-3", TargetKeyId=str(uuid.uuid4()))
    assert error_of(caught)[:2] == ("NotFoundException", 400)
    assert kms.list_aliases(KeyId=key_id)["Aliases"][0]["AliasName"] == name


def test_encrypt_decrypt_round_trip(kms: Any, key_id: str) -> None:
    arn = arn_of(kms, key_id)
    sealed = kms.encrypt(KeyId=key_id, Plaintext=b"card 4111")
    assert sealed["KeyId"] == arn
    assert sealed["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = sealed["CiphertextBlob"]
    assert b"card 4111" not in blob
    opened = kms.decrypt(CiphertextBlob=blob)
    assert opened["Plaintext"] == b"card 4111"
    assert opened["KeyId"] == arn
    assert kms.decrypt(CiphertextBlob=blob, KeyId=arn)["Plaintext"] == b"card 4111"
    # Same plaintext, fresh nonce: never the same blob twice.
    assert kms.encrypt(KeyId=key_id, Plaintext=b"card 4111")["CiphertextBlob"] != blob


def test_encryption_context_is_bound(kms: Any, key_id: str) -> None:
    context = {"tenant": "a", "purpose": "test"}
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext=context)["CiphertextBlob"]
    reordered = {"purpose": "test", "tenant": "a"}
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=reordered)["Plaintext"] == b"x"
    for wrong in ({}, {"tenant": "b", "purpose": "test"}, {"tenant": "a"}):
        with pytest.raises(ClientError) as caught:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=wrong)
        assert error_of(caught) == ("InvalidCiphertextException", 400, "")


def test_damaged_or_foreign_ciphertext(kms: Any, key_id: str) -> None:
    blob = bytearray(kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"])
    blob[-1] ^= 1
    with pytest.raises(ClientError) as caught:
        kms.decrypt(CiphertextBlob=bytes(blob))
    assert error_of(caught)[:2] == ("InvalidCiphertextException", 400)
    with pytest.raises(ClientError) as caught:
        kms.decrypt(CiphertextBlob=b"not a blob of ours at all")
    assert error_of(caught)[:2] == ("InvalidCiphertextException", 400)
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    good = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
    with pytest.raises(ClientError) as caught:
        kms.decrypt(CiphertextBlob=good, KeyId=other)
    assert error_of(caught) == (
        "IncorrectKeyException",
        400,
        "The key ID in the request does not identify a CMK that can perform this operation.",
    )


def test_generate_data_key(kms: Any, kms_unchecked: Any, key_id: str) -> None:
    made = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext={"a": "b"})
    assert len(made["Plaintext"]) == 32
    assert made["KeyId"] == arn_of(kms, key_id)
    opened = kms.decrypt(CiphertextBlob=made["CiphertextBlob"], EncryptionContext={"a": "b"})
    assert opened["Plaintext"] == made["Plaintext"]
    assert len(kms.generate_data_key(KeyId=key_id, KeySpec="AES_128")["Plaintext"]) == 16
    assert len(kms.generate_data_key(KeyId=key_id, NumberOfBytes=64)["Plaintext"]) == 64
    bare = kms.generate_data_key_without_plaintext(KeyId=key_id, KeySpec="AES_256")
    assert "Plaintext" not in bare
    assert len(kms.decrypt(CiphertextBlob=bare["CiphertextBlob"])["Plaintext"]) == 32
    with pytest.raises(ClientError) as caught:
        kms.generate_data_key(KeyId=key_id)
    assert error_of(caught) == (
        "ValidationException",
        400,
        "Please specify either number of bytes or key spec.",
    )
    with pytest.raises(ClientError) as caught:
        kms_unchecked.generate_data_key(KeyId=key_id, NumberOfBytes=1025)
    assert error_of(caught) == (
        "ValidationException",
        400,
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy "
        "constraint: Member must have value less than or equal to 1024",
    )


def test_re_encrypt(kms: Any, key_id: str) -> None:
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"move me", EncryptionContext={"k": "1"})
    moved = kms.re_encrypt(
        CiphertextBlob=blob["CiphertextBlob"],
        SourceEncryptionContext={"k": "1"},
        DestinationKeyId=other,
    )
    assert moved["SourceKeyId"] == arn_of(kms, key_id)
    assert moved["KeyId"] == arn_of(kms, other)
    assert kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == b"move me"


def test_disable_and_enable(kms: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"p")["CiphertextBlob"]
    kms.disable_key(KeyId=key_id)
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (meta["KeyState"], meta["Enabled"]) == ("Disabled", False)
    arn = meta["Arn"]
    for call in (
        lambda: kms.encrypt(KeyId=key_id, Plaintext=b"p"),
        lambda: kms.decrypt(CiphertextBlob=blob),
        lambda: kms.generate_data_key(KeyId=key_id, KeySpec="AES_256"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught) == ("DisabledException", 400, f"{arn} is disabled.")
    with pytest.raises(ClientError) as caught:
        kms.enable_key_rotation(KeyId=key_id)
    assert error_of(caught)[:2] == ("DisabledException", 400)
    kms.enable_key(KeyId=key_id)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"p"
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"


def test_schedule_and_cancel_deletion(kms: Any, kms_unchecked: Any, key_id: str) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"p")["CiphertextBlob"]
    arn = arn_of(kms, key_id)
    with pytest.raises(ClientError) as caught:
        kms_unchecked.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=3)
    assert error_of(caught) == (
        "ValidationException",
        400,
        "PendingWindowInDays should be between 7 and 30, but it is 3",
    )
    scheduled = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert scheduled["KeyId"] == arn
    assert scheduled["KeyState"] == "PendingDeletion"
    assert scheduled["PendingWindowInDays"] == 7
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion"
    assert meta["DeletionDate"] == scheduled["DeletionDate"]
    created = meta["CreationDate"].timestamp()
    assert scheduled["DeletionDate"].timestamp() - created >= 7 * 86400
    for call in (
        lambda: kms.encrypt(KeyId=key_id, Plaintext=b"p"),
        lambda: kms.decrypt(CiphertextBlob=blob),
        lambda: kms.schedule_key_deletion(KeyId=key_id),
        lambda: kms.enable_key(KeyId=key_id),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught) == ("KMSInvalidStateException", 400, f"{arn} is pending deletion.")
    cancelled = kms.cancel_key_deletion(KeyId=key_id)
    assert cancelled["KeyId"] == arn
    # AWS: a key whose deletion was cancelled is Disabled until enabled again.
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    with pytest.raises(ClientError) as caught:
        kms.cancel_key_deletion(KeyId=key_id)
    assert error_of(caught)[:2] == ("KMSInvalidStateException", 400)
    kms.enable_key(KeyId=key_id)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"p"


def test_rotation(kms: Any, kms_unchecked: Any, key_id: str) -> None:
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is False
    before = kms.encrypt(KeyId=key_id, Plaintext=b"old")["CiphertextBlob"]
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is True
    assert status["RotationPeriodInDays"] == 90
    assert "NextRotationDate" in status
    kms.rotate_key_on_demand(KeyId=key_id)
    rotations = kms.list_key_rotations(KeyId=key_id)["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"]
    after = kms.encrypt(KeyId=key_id, Plaintext=b"new")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=before)["Plaintext"] == b"old"
    assert kms.decrypt(CiphertextBlob=after)["Plaintext"] == b"new"
    kms.disable_key_rotation(KeyId=key_id)
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    with pytest.raises(ClientError) as caught:
        kms_unchecked.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=30)
    assert error_of(caught) == (
        "ValidationException",
        400,
        "1 validation error detected: Value '30' at 'rotationPeriodInDays' failed to satisfy "
        "constraint: Member must have value greater than or equal to 90",
    )


def test_update_description_tags_policy(kms: Any, key_id: str) -> None:
    kms.update_key_description(KeyId=key_id, Description="renamed")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "renamed"
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "b", "TagValue": "2"}])
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "a", "TagValue": "1"}])
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [
        {"TagKey": "a", "TagValue": "1"},
        {"TagKey": "b", "TagValue": "2"},
    ]
    kms.untag_resource(KeyId=key_id, TagKeys=["b"])
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "a", "TagValue": "1"}]
    with pytest.raises(ClientError) as caught:
        kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "aws:x", "TagValue": "1"}])
    assert error_of(caught)[:2] == ("TagException", 400)
    policy = kms.get_key_policy(KeyId=key_id, PolicyName="default")
    assert '"kms:*"' in policy["Policy"]
    assert policy["PolicyName"] == "default"
    mine = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", '
        '"Principal": {"AWS": "*"}, "Resource": "*"}]}'
    )
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=mine)
    assert kms.get_key_policy(KeyId=key_id)["Policy"] == mine
    assert kms.list_key_policies(KeyId=key_id)["PolicyNames"] == ["default"]
    with pytest.raises(ClientError) as caught:
        kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy="{not json")
    assert error_of(caught)[:2] == ("MalformedPolicyDocumentException", 400)
    assert kms.get_key_policy(KeyId=key_id)["Policy"] == mine


def test_validation_and_unknown(kms: Any, kms_unchecked: Any, key_id: str) -> None:
    with pytest.raises(ClientError) as caught:
        kms_unchecked.encrypt(KeyId=key_id, Plaintext=b"x" * 4097)
    assert error_of(caught) == (
        "ValidationException",
        400,
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
        "Member must have length less than or equal to 4096",
    )
    with pytest.raises(ClientError) as caught:
        kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert error_of(caught) == (
        "InvalidKeyUsageException",
        400,
        "Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec SYMMETRIC_DEFAULT.",
    )
    with pytest.raises(ClientError) as caught:
        kms.create_key(KeySpec="RSA_2048")
    assert error_of(caught)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as caught:
        kms.create_grant(
            KeyId=key_id, GranteePrincipal="arn:aws:iam::1:root", Operations=["Decrypt"]
        )
    assert error_of(caught)[:2] == ("NotImplemented", 501)
    random = kms.generate_random(NumberOfBytes=24)["Plaintext"]
    assert len(random) == 24
    with pytest.raises(ClientError) as caught:
        kms_unchecked.describe_key()
    assert error_of(caught) == (
        "ValidationException",
        400,
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: "
        "Member must not be null",
    )
    with pytest.raises(ClientError) as caught:
        kms_unchecked.describe_key(KeyId=5)
    assert error_of(caught)[:2] == ("SerializationException", 400)


def test_dry_run(kms: Any, key_id: str) -> None:
    with pytest.raises(ClientError) as caught:
        kms.encrypt(KeyId=key_id, Plaintext=b"x", DryRun=True)
    assert error_of(caught)[:2] == ("DryRunOperationException", 412)


def test_aws_managed_s3_key(kms: Any) -> None:
    meta = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    again = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert again["KeyId"] == meta["KeyId"]
    names = [a["AliasName"] for a in kms.list_aliases(KeyId=meta["KeyId"])["Aliases"]]
    assert names == ["alias/aws/s3"]
    with pytest.raises(ClientError) as caught:
        kms.disable_key(KeyId=meta["KeyId"])
    assert error_of(caught)[:2] == ("UnsupportedOperationException", 400)
