import random

from strata.bench.stats import Histogram, Report, Tally, bucket_index, bucket_value


def test_buckets_bound_every_value_within_two_percent() -> None:
    for value in [*range(300), 1000, 4097, 65_535, 1_000_000, 3_600_000_000]:
        index = bucket_index(value)
        upper = bucket_value(index)
        assert value <= upper <= value * 1.032 + 1
        assert index == 0 or bucket_value(index - 1) < value


def test_buckets_are_monotonic() -> None:
    indexes = [bucket_index(v) for v in range(0, 200_000, 7)]
    assert indexes == sorted(indexes)


def test_percentiles_of_a_uniform_spread() -> None:
    hist = Histogram()
    for value in range(1, 10_001):
        hist.record(value)
    assert hist.total == 10_000
    assert hist.min_us == 1
    assert hist.max_us == 10_000
    assert abs(hist.percentile(0.5) - 5000) <= 5000 * 0.02
    assert abs(hist.percentile(0.99) - 9900) <= 9900 * 0.02
    assert hist.percentile(1.0) == 10_000


def test_empty_histogram() -> None:
    assert Histogram().percentile(0.99) == 0


def test_merge_equals_recording_everything_in_one() -> None:
    rng = random.Random(7)
    values = [int(rng.expovariate(1 / 800)) for _ in range(5000)]
    whole, left, right = Histogram(), Histogram(), Histogram()
    for i, value in enumerate(values):
        whole.record(value)
        (left if i % 2 else right).record(value)
    left.merge(right)
    assert left.counts == whole.counts
    assert (left.total, left.sum_us, left.min_us, left.max_us) == (
        whole.total,
        whole.sum_us,
        whole.min_us,
        whole.max_us,
    )


def test_tally_json_round_trip() -> None:
    tally = Tally()
    for value in (10, 20, 3000):
        tally.hist.record(value)
    tally.ops, tally.bytes = 3, 12_288
    tally.error("503 SlowDown", "please reduce your request rate")
    tally.error("503 SlowDown", "second message is not kept")
    back = Tally.from_json(tally.to_json())
    assert back.hist.counts == tally.hist.counts
    assert back.errors == {"503 SlowDown": 2}
    assert back.error_samples == {"503 SlowDown": "please reduce your request rate"}


def test_report_fails_on_any_error() -> None:
    tally = Tally()
    tally.hist.record(1000)
    tally.ops = 1
    params = {"op": "get"}
    good = Report.build(
        name="x", target="t", concurrency=1, processes=1, duration_s=1.0, tally=tally, params=params
    )
    assert good.ok
    tally.error("403 SignatureDoesNotMatch")
    bad = Report.build(
        name="x", target="t", concurrency=1, processes=1, duration_s=1.0, tally=tally, params=params
    )
    assert not bad.ok
    assert "SignatureDoesNotMatch" in bad.to_text()
    assert bad.to_json()["errors"] == {"403 SignatureDoesNotMatch": 1}


def test_report_with_no_ops_is_not_ok() -> None:
    report = Report.build(
        name="x", target="t", concurrency=1, processes=1, duration_s=1.0, tally=Tally(), params={}
    )
    assert not report.ok
