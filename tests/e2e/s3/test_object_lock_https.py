"""The Object Lock tests again, over HTTPS with a certificate ``strata tls selfsigned``
writes: every mode, bypass, legal hold, errors and concurrent deletes, through boto3
trusting that file. The tests are test_object_lock's own; this module gives them an
``s3`` client on the HTTPS port of test_tls's servers (granian and uvicorn); the IAM-user
and Content-MD5 tests, which build clients from the plain endpoint, stay on HTTP."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.e2e.s3.test_object_lock import (  # noqa: F401 (collected here, over HTTPS)
    locked,
    plain,
    test_compliance_binds_root,
    test_concurrent_deletes_never_remove_locked_versions,
    test_copy_and_multipart,
    test_create_with_lock_turns_on_versioning_for_good,
    test_default_retention_applies_to_new_versions,
    test_delete_objects_reports_locked_keys,
    test_governance,
    test_header_errors,
    test_legal_hold_blocks_independently,
    test_retention_errors,
)
from tests.e2e.test_tls import Both, both, certificate  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def s3(both: Both) -> Any:  # noqa: F811 (this module's client: HTTPS)
    secure = boto3.client(
        "s3",
        endpoint_url=both.https,
        verify=both.cert,
        aws_access_key_id=both.server.access_key,
        aws_secret_access_key=both.server.secret_key,
        region_name="us-east-1",
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"},
            s3={"addressing_style": "path"},
            max_pool_connections=16,
        ),
    )
    assert secure.meta.endpoint_url.startswith("https://")
    return secure
