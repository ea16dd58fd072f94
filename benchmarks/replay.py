"""Neutral replay: the same pre-signed requests sent by wrk to every system.

    python -m benchmarks.replay                      # Strata, dynalite, ministack; ~6 minutes
    python -m benchmarks.replay --cases getitem,s3get --systems strata,dynalite --rounds 1

`strata bench` is a Python client: each request costs it tens of microseconds of its own
CPU, and a server that answers faster than the client can ask is measured as the client.
That once showed Strata ahead of dynalite where a C-speed generator shows it behind. Here
the requests are recorded once per system with the same workload code (the same keys,
bodies and SigV4 signatures a real client would send), written out raw, and replayed by
wrk on its own core through `replay.lua`; every server pays the same per-request price on
the generator's side, which is close to nothing. The same workload also runs through
`strata bench`'s client in the same round, so the table shows how far the two instruments
disagree, system by system.

Signatures are computed at recording time and stay valid for AWS's 15 minutes, which is
longer than one case's rounds. Writes replay the same items again and again (overwrites),
which costs every system the same.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.peers import RESULTS, Case, KiB, dynamodb_case, prepare, running, s3_case
from benchmarks.systems import System, all_systems, apt_install, log
from strata.bench.http import Body, RepeatedBody, Response
from strata.bench.runner import OpError, RunSpec, execute, run_async

LUA = Path(__file__).with_name("replay.lua")
CASES = {
    "getitem": lambda c: dynamodb_case("getitem", c, 10_000),
    "putitem": lambda c: dynamodb_case("putitem", c, 10_000),
    "updateitem": lambda c: dynamodb_case("updateitem", c, 10_000),
    "query": lambda c: dynamodb_case("query", c, 10_000),
    "s3get": lambda c: s3_case("get", 4 * KiB, 1000, c),
    "s3put": lambda c: s3_case("put", 4 * KiB, 1000, c),
    "s3head": lambda c: s3_case("head", 4 * KiB, 1000, c),
}


class Recorder:
    """Stands in for `strata.bench.http.Client`: keeps each request as raw HTTP/1.1 bytes."""

    def __init__(self, host_header: str) -> None:
        self.host_header = host_header
        self.requests: list[bytes] = []

    async def request(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: Body | None = None,
        *,
        keep_body: bool = False,
    ) -> Response:
        payload = b"" if body is None else _materialise(body)
        lines = [f"{method} {target} HTTP/1.1"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        if body is not None or method in ("PUT", "POST"):
            lines.append(f"content-length: {len(payload)}")
        self.requests.append(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
        # An answer the workload's checks accept, so it goes on to its next request.
        answer = Response(200, {"content-length": "0"})
        answer.body = b'{"Item":{},"Count":0,"UnprocessedItems":{}}'
        return answer


def _materialise(body: Body) -> bytes:
    if isinstance(body, RepeatedBody):
        whole, rest = divmod(body.size_bytes, len(body.block))
        return body.block * whole + body.block[:rest]
    return body


def record(workload: object, host_header: str, count: int) -> list[bytes]:
    """`count` requests of the workload, as its client would have sent them."""
    recorder = Recorder(host_header)
    run_once = workload.run_once  # type: ignore[attr-defined]

    async def go() -> None:
        for seq in range(count):
            try:
                await run_once(recorder, 0, seq)
            except OpError:
                pass  # the canned answer failed a check: the request is recorded all the same

    workload.bind(0, 1)  # type: ignore[attr-defined]
    run_async(go)
    return recorder.requests


def write_requests(path: Path, requests: list[bytes]) -> None:
    """The format replay.lua reads: a decimal length, a newline, that many bytes; repeated."""
    with path.open("wb") as out:
        for raw in requests:
            out.write(b"%d\n" % len(raw))
            out.write(raw)


@dataclass
class WrkResult:
    ops_per_s: float
    p50_ms: float
    p99_ms: float
    failures: int
    raw: str = field(repr=False, default="")


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    assert match, text
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (rate and p50 and p99):
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    failures = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        failures += sum(int(n) for n in socket_errors.groups())
    return WrkResult(float(rate.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), failures, output)


def run_wrk(
    endpoint: str, requests_file: Path, connections: int, duration_s: int, pin: bool
) -> WrkResult:
    argv = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--latency",
        "-s",
        str(LUA),
        endpoint,
    ]
    if pin and (os.cpu_count() or 1) >= 2:
        argv = ["taskset", "-c", "0", *argv]
    env = {**os.environ, "REPLAY_FILE": str(requests_file)}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=duration_s + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


@dataclass
class Row:
    label: str
    wrk: dict[str, list[WrkResult]] = field(default_factory=dict)
    bench: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def measure(systems: list[System], case: Case, args: argparse.Namespace, scratch: Path) -> Row:
    row = Row(f"{case.label} c{case.concurrency}")
    files: dict[str, Path] = {}
    workloads = {}
    for system in systems:
        if not case.applies_to(system) or system.process is None:
            continue
        try:
            workload = prepare(case, system)
        except (OpError, OSError, ValueError, RuntimeError) as exc:
            row.failures[system.name] = f"setup: {exc}"[:160]
            continue
        host_header = system.endpoint.removeprefix("http://")
        path = scratch / f"{system.name}-{case.service}-{len(files)}.req"
        write_requests(path, record(workload, host_header, args.requests))
        files[system.name] = path
        workloads[system.name] = workload
    spec = RunSpec(concurrency=case.concurrency, duration_s=args.duration, progress=False)
    for round_index in range(args.rounds):
        for system in systems:
            if system.name not in files or system.name in row.failures:
                continue
            result = run_wrk(
                system.endpoint, files[system.name], case.concurrency, args.duration, args.pin
            )
            if result.failures:
                row.failures[system.name] = f"{result.failures} failed requests"
                log(f"  {row.label} {system.name}: wrk saw failures\n{result.raw}")
                continue
            row.wrk.setdefault(system.name, []).append(result)
            line = f"  [{round_index + 1}/{args.rounds}] {row.label} {system.name:<9} "
            line += f"wrk {result.ops_per_s:>9,.0f}/s p50 {result.p50_ms:.2f} ms"
            if args.bench:
                report = execute(workloads[system.name], spec)
                if report.ok:
                    row.bench.setdefault(system.name, []).append(report.ops_per_s)
                    line += f"  strata bench {report.ops_per_s:>9,.0f}/s"
            log(line)
    return row


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def markdown(rows: list[Row], systems: list[System], args: argparse.Namespace) -> str:
    names = [s.name for s in systems]
    head = "| workload | " + " | ".join(f"{n} (wrk)" for n in names)
    head += " | " + " | ".join(f"strata/{n}" for n in names[1:])
    if args.bench:
        head += " | " + " | ".join(f"{n} bench/wrk" for n in names)
    lines = [head + " |", "|" + "---|" * head.count("|")]
    for row in rows:
        rates = {n: _median([r.ops_per_s for r in row.wrk.get(n, [])]) for n in names}
        cells = [row.label]
        for name in names:
            rate = rates[name]
            cells.append(row.failures.get(name, "—") if rate is None else f"{rate:,.0f}/s")
        ours = rates[names[0]]
        for name in names[1:]:
            theirs = rates[name]
            cells.append(f"{ours / theirs:.2f}x" if ours and theirs else "—")
        if args.bench:
            for name in names:
                bench = _median(row.bench.get(name, []))
                rate = rates[name]
                cells.append(f"{bench / rate:.2f}" if bench and rate else "—")
        lines.append("| " + " | ".join(cells) + " |")
    p50 = ["", "p50 latency (wrk), ms:"]
    for row in rows:
        parts = [
            f"{n} {_median([r.p50_ms for r in row.wrk[n]]):.2f}" for n in names if n in row.wrk
        ]
        p99s = [f"{n} {_median([r.p99_ms for r in row.wrk[n]]):.2f}" for n in names if n in row.wrk]
        p50.append(f"- {row.label}: p50 {', '.join(parts)}; p99 {', '.join(p99s)}")
    return "\n".join(lines + p50)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replay", description=__doc__)
    parser.add_argument("--systems", default="strata,dynalite,ministack")
    parser.add_argument("--cases", default="getitem,putitem,updateitem,query,s3get,s3put")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000, help="distinct requests")
    parser.add_argument(
        "--no-bench",
        dest="bench",
        action="store_false",
        help="skip the strata bench run beside each wrk run",
    )
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        apt_install("wrk")
    wanted = args.systems.split(",")
    systems = [s for s in all_systems() if s.name in wanted]
    for system in systems:
        system.install()
    matrix = [CASES[name](args.connections) for name in args.cases.split(",")]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch, running(systems, args.pin) as live:
        for case in matrix:
            if not any(case.applies_to(s) for s in live):
                continue
            rows.append(measure(live, case, args, Path(scratch)))
    table = markdown(rows, systems, args)
    print(
        f"\nneutral replay, {started}, wrk -t1 -c{args.connections} {args.duration}s x "
        f"{args.rounds} rounds, medians; server on core 1, wrk on core 0\n"
    )
    print(table)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"replay-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(
        json.dumps(
            {
                "started": started,
                "args": vars(args),
                "rows": [
                    {
                        "label": r.label,
                        "wrk": {n: [x.ops_per_s for x in v] for n, v in r.wrk.items()},
                        "bench": r.bench,
                        "failures": r.failures,
                    }
                    for r in rows
                ],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
