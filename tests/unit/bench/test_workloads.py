import random
from collections import Counter

import pytest

from strata.bench.command import build_parser, make_workload
from strata.bench.dynamodb import ITEMS_PER_PARTITION, DynamoWorkload, error_code, record_key
from strata.bench.http import Response
from strata.bench.s3 import S3Workload, default_objects, parse_endpoint
from strata.bench.s3 import error_code as s3_error_code
from strata.bench.zipf import AcknowledgedCounter, ScrambledZipfian, Zipfian


def test_zipfian_is_skewed_and_in_range() -> None:
    zipf = Zipfian(1000, rng=random.Random(3))
    draws = Counter(zipf.next() for _ in range(20_000))
    assert min(draws) >= 0
    assert max(draws) < 1000
    assert draws[0] > draws[10] > draws[500]


def test_scrambled_zipfian_spreads_the_hot_keys() -> None:
    chooser = ScrambledZipfian(1000, rng=random.Random(3))
    hottest = [key for key, _ in Counter(chooser.next() for _ in range(20_000)).most_common(5)]
    assert hottest != sorted(hottest) or hottest[0] != 0


def test_acknowledged_counter_waits_for_gaps() -> None:
    counter = AcknowledgedCounter()
    first, second, third = counter.take(), counter.take(), counter.take()
    counter.acknowledge(second)
    assert counter.acknowledged == 0
    counter.acknowledge(first)
    assert counter.acknowledged == 2
    counter.acknowledge(third)
    assert counter.acknowledged == 3


def test_records_fill_partitions_of_a_hundred() -> None:
    assert record_key(0) == {"pk": {"S": "p0000000000"}, "sk": {"S": "000"}}
    assert record_key(ITEMS_PER_PARTITION + 7)["pk"] == {"S": "p0000000001"}
    assert record_key(ITEMS_PER_PARTITION + 7)["sk"] == {"S": "007"}


def _response(status: int, body: bytes) -> Response:
    response = Response(status, {})
    response.body = body
    return response


def test_error_codes() -> None:
    ddb = _response(400, b'{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException"}')
    assert error_code(ddb) == "400 ValidationException"
    assert error_code(_response(500, b"oops")) == "500 NoType"
    s3 = _response(404, b"<Error><Code>NoSuchKey</Code><Message>m</Message></Error>")
    assert s3_error_code(s3) == "404 NoSuchKey"
    assert s3_error_code(_response(404, b"")) == "404 NoBody"


def test_parse_endpoint() -> None:
    assert parse_endpoint("http://127.0.0.1:4566") == ("127.0.0.1", 4566)
    assert parse_endpoint("http://localhost/") == ("localhost", 80)
    assert parse_endpoint("http://[::1]:9000") == ("::1", 9000)
    with pytest.raises(ValueError, match="http://"):
        parse_endpoint("https://example.com")


def test_default_object_counts_bound_the_data() -> None:
    assert default_objects("get", 4096) == 10_000
    assert default_objects("get", 256 * 1024**2) == 4
    assert default_objects("list", 1) == 10_000


def test_command_line_builds_workloads() -> None:
    parser = build_parser()
    common = ["--access-key", "a", "--secret-key", "s", "--endpoint", "http://127.0.0.1:9"]
    s3 = make_workload(parser.parse_args(["s3", *common, "--op", "get", "--size", "1MiB"]))
    assert isinstance(s3, S3Workload)
    assert (s3.op, s3.size_bytes, s3.port) == ("get", 1024**2, 9)
    ddb = make_workload(parser.parse_args(["dynamodb", *common, "--workload", "e"]))
    assert isinstance(ddb, DynamoWorkload)
    assert ddb.name == "dynamodb ycsb-e"
    with pytest.raises(SystemExit):
        parser.parse_args(["dynamodb", *common, "--workload", "a", "--op", "getitem"])


def test_missing_credentials_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    args = build_parser().parse_args(["s3", "--endpoint", "http://127.0.0.1:9"])
    with pytest.raises(ValueError, match="credentials"):
        make_workload(args)
