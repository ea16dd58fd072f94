"""What Object Lock costs a request: three in-process apps in one process, alternating
rounds, loop-thread CPU per request (as ``audit_cost.py``, whose reasoning applies: one
process cancels most of a shared machine's drift between runs).

- ``plain``: a bucket never versioned (the hot path Object Lock must not slow);
- ``versioned``: versioning on, no lock;
- ``locked``: Object Lock on with a default GOVERNANCE retention, so every PUT takes the
  lock path (default retention stamped, Content-MD5 checked) and every GET renders the
  three x-amz-object-lock-* headers.

Then the stored record: encode + decode of an ``ObjectVersion`` as stored now (the lock
fields added, fields at their default omitted) against the record before Object Lock
(every field written), and the listing's narrow decode (``ListedVersion``) of each,
alternating timeit rounds.

    python -m benchmarks.object_lock_cost [--op put|get] [--rounds 12] [--requests 2000]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import statistics
import time
import timeit

import msgspec

from benchmarks.asgi_harness import Signed, replay, runner
from benchmarks.s3_inprocess import POOL_SIZE, Harness
from strata.service.objects.records import ListedVersion, ObjectVersion
from strata.storage import records

KINDS = ("plain", "versioned", "locked")
VERSIONING = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"
LOCK = (
    b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
    b"<DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule>"
    b"</ObjectLockConfiguration>"
)


def _md5(body: bytes) -> dict[str, str]:
    return {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}


async def _prepared(kind: str, size: int) -> tuple[Harness, list[Signed], list[Signed]]:
    harness = Harness(signed_payload=False)
    await harness.must(harness.sign("PUT"))
    if kind != "plain":
        await harness.must(
            harness.sign("PUT", query={"versioning": ""}, body=VERSIONING, headers=_md5(VERSIONING))
        )
    if kind == "locked":
        await harness.must(
            harness.sign("PUT", query={"object-lock": ""}, body=LOCK, headers=_md5(LOCK))
        )
    body = os.urandom(size)
    puts = [
        harness.sign("PUT", f"obj/{i:06d}", body=body, headers=_md5(body)) for i in range(POOL_SIZE)
    ]
    for signed in puts:
        await harness.must(signed)
    gets = [harness.sign("GET", f"obj/{i:06d}") for i in range(POOL_SIZE)]
    return harness, puts, gets


async def compare(op: str, rounds: int, requests: int, size: int) -> dict[str, list[float]]:
    concurrency = 32 if op == "put" else 1
    apps = {kind: await _prepared(kind, size) for kind in KINDS}
    try:
        pools = {kind: (puts if op == "put" else gets) for kind, (_, puts, gets) in apps.items()}
        for kind, (harness, _, _) in apps.items():
            await replay(harness.call, pools[kind], 500, concurrency)  # warm-up
        cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for n in range(rounds):
            order = KINDS[n % 3 :] + KINDS[: n % 3]
            for kind in order:
                harness = apps[kind][0]
                started = time.thread_time()
                await replay(harness.call, pools[kind], requests, concurrency)
                cpu[kind].append((time.thread_time() - started) / requests * 1e6)
        return cpu
    finally:
        for harness, _, _ in apps.values():
            await harness.aclose()


_LOCK_FIELDS = frozenset({"lock_mode", "lock_until_ms", "legal_hold"})
# ``ObjectVersion`` before Object Lock: its other fields, every one written.
_Unlocked = msgspec.defstruct(
    "_Unlocked",
    [
        (f.name, f.type, f.default if f.default is not msgspec.NODEFAULT else msgspec.NODEFAULT)
        if f.default_factory is msgspec.NODEFAULT
        else (f.name, f.type, msgspec.field(default_factory=f.default_factory))
        for f in msgspec.structs.fields(ObjectVersion)
        if f.name not in _LOCK_FIELDS
    ],
    frozen=True,
)


def record_cost(size: int) -> dict[str, float]:
    now = ObjectVersion(
        version_id="null", stamp=1 << 60, last_modified_ms=1_765_000_000_000, size_bytes=size,
        etag="0" * 32, headers={"content-type": "binary/octet-stream"},
        inline=os.urandom(size), checksum_algorithm="CRC64NVME", checksum=os.urandom(8),
    )  # fmt: skip
    before = _Unlocked(**{f: getattr(now, f) for f in _Unlocked.__struct_fields__})
    pairs = {"before": (before, _Unlocked), "now": (now, ObjectVersion)}
    rounds: dict[str, list[float]] = {}
    for n in range(40):  # alternating rounds: the machine's drift hits both alike
        for name in ("before", "now") if n % 2 == 0 else ("now", "before"):
            record, kind = pairs[name]
            raw = records.encode(record)
            both = timeit.timeit(
                lambda r=record, k=kind: records.decode(records.encode(r), k),  # type: ignore[misc]
                number=2_000,
            )
            listed = timeit.timeit(lambda r=raw: records.decode(r, ListedVersion), number=2_000)  # type: ignore[misc]
            rounds.setdefault(f"{name}_us", []).append(both / 2_000 * 1e6)
            rounds.setdefault(f"{name}_list_us", []).append(listed / 2_000 * 1e6)
    out = {name: statistics.median(values) for name, values in rounds.items()}
    for name, (record, _) in pairs.items():
        out[f"{name}_bytes"] = len(records.encode(record))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.object_lock_cost", description=__doc__
    )
    parser.add_argument("--op", choices=("put", "get"), default="put")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--size", type=int, default=4096)
    args = parser.parse_args()
    cpu = runner("uvloop")(compare(args.op, args.rounds, args.requests, args.size))
    medians = {kind: statistics.median(values) for kind, values in cpu.items()}
    base = medians["plain"]
    shown = ", ".join(
        f"{kind} {value:.1f} µs ({(value / base - 1) * 100:+.1f}%)"
        for kind, value in medians.items()
    )
    print(f"{args.op} {args.size} B: {shown} CPU/request, medians of {args.rounds} rounds")
    for size in sorted({0, args.size}):
        cost = record_cost(size)
        print(
            f"record of a {size} B inline version: before {cost['before_bytes']} B, encode+decode "
            f"{cost['before_us']:.2f} µs, listing decode {cost['before_list_us']:.2f} µs; now "
            f"{cost['now_bytes']} B, {cost['now_us']:.2f} µs, {cost['now_list_us']:.2f} µs"
        )


if __name__ == "__main__":
    main()
