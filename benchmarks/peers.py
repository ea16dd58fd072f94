"""Peer benchmark: Strata against what users would run instead, same client, same box.

    python -m benchmarks.peers            # full run (make bench), about 20 minutes
    python -m benchmarks.peers --quick    # a few minutes, 4 KiB and c=32 only

Installs the peers (benchmarks/.peers/, git-ignored), starts every system on 127.0.0.1,
probes the disk, then for each workload prepares every system and runs it round-robin
(A B C A B C ...) for several rounds, so slow drift (page cache, compaction, thermal)
spreads over all systems instead of landing on one. Prints medians and Strata/peer ratios
as Markdown (paste into docs/benchmarks.md) and writes everything to benchmarks/results/.

By default each server is pinned to core 1 and the load generator to core 0: figures are
per server core, and the generator cannot steal the server's core.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import disk
from benchmarks.systems import PEERS, ROOT, Nginx, System, all_systems, log
from strata.bench.dynamodb import DynamoSettings, DynamoWorkload
from strata.bench.http import HTTPError
from strata.bench.runner import OpError, RunSpec, Workload, execute, run_async
from strata.bench.s3 import Endpoint, S3Workload
from strata.bench.stats import Report
from strata.bench.units import format_size

RESULTS = ROOT / "results"
KiB, MiB = 1024, 1024**2
PREFILL_CONCURRENCY = 16


@dataclass(frozen=True)
class Case:
    """One row of the table: a workload at a concurrency, run on every system that speaks it."""

    label: str
    service: str  # "s3" | "dynamodb"
    concurrency: int
    unit: str  # "ops/s" | "MiB/s"
    make: Callable[[Endpoint, bool], Workload]  # (endpoint, prefill) -> workload
    static_ok: bool = False  # nginx can serve it

    def applies_to(self, system: System) -> bool:
        """Whether `system` takes part in this row."""
        if system.static_only:
            return self.static_ok
        return system.s3 if self.service == "s3" else system.dynamodb


def s3_case(op: str, size: int, objects: int, conc: int, unit: str = "ops/s") -> Case:
    names = {"put": "PutObject", "get": "GetObject", "head": "HeadObject"}
    if op == "list":
        label = f"S3 ListObjectsV2 first 1,000 of {objects:,} keys"
    else:
        label = f"S3 {names[op]} {format_size(size)}"

    def make(endpoint: Endpoint, prefill: bool) -> Workload:
        return S3Workload(endpoint, op=op, size_bytes=size, objects=objects, prefill=prefill)

    return Case(label, "s3", conc, unit, make, static_ok=op in ("get", "head"))


def dynamodb_case(op: str, conc: int, records: int) -> Case:
    names = {
        "putitem": "PutItem",
        "getitem": "GetItem (consistent)",
        "updateitem": "UpdateItem (ADD)",
        "query": "Query (Limit 20)",
        "batchwrite": "BatchWriteItem (25)",
    }

    def make(endpoint: Endpoint, prefill: bool) -> Workload:
        settings = DynamoSettings(
            op=op, records=records, consistent=True, query_limit=20, prefill=prefill
        )
        return DynamoWorkload(endpoint, settings)

    return Case(f"DynamoDB {names[op]}", "dynamodb", conc, "ops/s", make)


def cases(quick: bool) -> list[Case]:
    """The matrix of the issue; --quick keeps 4 KiB objects and 32 connections."""
    if quick:
        return [
            s3_case("put", 4 * KiB, 1000, 32),
            s3_case("get", 4 * KiB, 1000, 32),
            s3_case("head", 4 * KiB, 1000, 32),
            s3_case("list", 0, 2000, 8),
            *(dynamodb_case(op, 32, 2000) for op in ("putitem", "getitem", "updateitem", "query")),
            dynamodb_case("batchwrite", 32, 2000),
        ]
    return [
        s3_case("put", 4 * KiB, 1000, 32),
        s3_case("get", 4 * KiB, 1000, 32),
        s3_case("put", MiB, 64, 8, "MiB/s"),
        s3_case("get", MiB, 64, 8, "MiB/s"),
        s3_case("put", 256 * MiB, 4, 2, "MiB/s"),
        s3_case("get", 256 * MiB, 4, 2, "MiB/s"),
        s3_case("head", 4 * KiB, 1000, 32),
        s3_case("list", 0, 10_000, 8),
        *(
            dynamodb_case(op, conc, 10_000)
            for op in ("putitem", "getitem", "updateitem", "query", "batchwrite")
            for conc in (1, 32)
        ),
    ]


# --- running ------------------------------------------------------------------------------
@dataclass
class Cell:
    """One (case, system): its reports over the rounds, or why it could not run."""

    reports: list[Report]
    failure: str = ""

    def value(self, unit: str) -> float | None:
        """Median throughput over successful rounds."""
        good = [r for r in self.reports if r.ok]
        if not good or self.failure:
            return None
        return statistics.median(r.mib_per_s if unit == "MiB/s" else r.ops_per_s for r in good)

    def latency(self, key: str) -> float | None:
        """Median of a latency percentile over successful rounds."""
        good = [r for r in self.reports if r.ok]
        if not good or self.failure:
            return None
        return statistics.median(r.latency_ms[key] for r in good)


def _write_static_files(system: Nginx, workload: S3Workload) -> None:
    """nginx serves the same bytes from files at <root>/<bucket>/<key>."""
    block = os.urandom(min(workload.size_bytes, MiB) or 1)
    for index in range(workload.objects):
        path = system.root / workload.bucket / workload.read_key(index)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            left = workload.size_bytes
            while left > 0:
                left -= file.write(block[: min(left, len(block))])
        path.chmod(0o644)
    for directory in [system.root, *(system.root / workload.bucket).rglob("*")]:
        if directory.is_dir():
            directory.chmod(0o755)


def prepare(case: Case, system: System) -> Workload:
    host_port = system.endpoint.removeprefix("http://").split(":")
    endpoint = Endpoint(
        system.endpoint,
        host_port[0],
        int(host_port[1]),
        system.access_key,
        system.secret_key,
        "us-east-1",
    )
    workload = case.make(endpoint, not system.static_only)
    if isinstance(system, Nginx):
        assert isinstance(workload, S3Workload)
        _write_static_files(system, workload)
    else:
        run_async(lambda: workload.prepare(PREFILL_CONCURRENCY))
    return workload


def _describe_failure(report: Report) -> str:
    codes = ", ".join(f"{code} x{count}" for code, count in report.errors.items())
    return codes or "no operation completed"


def run_matrix(
    systems: list[System], matrix: list[Case], rounds: int, spec: RunSpec
) -> dict[str, dict[str, Cell]]:
    """Every case, every system, `rounds` times, interleaved system by system."""
    table: dict[str, dict[str, Cell]] = {}
    for case in matrix:
        row: dict[str, Cell] = {}
        table[f"{case.label} c{case.concurrency}"] = row
        workloads: dict[str, Workload] = {}
        for system in systems:
            if not case.applies_to(system):
                continue
            if system.process is None:
                row[system.name] = Cell([], "not running")
                continue
            started = time.monotonic()
            try:
                workloads[system.name] = prepare(case, system)
            except (OpError, HTTPError, OSError, ValueError) as exc:
                row[system.name] = Cell([], f"setup: {exc}"[:160])
                log(f"  {case.label}: {system.name} setup failed: {exc}"[:300])
                continue
            row[system.name] = Cell([])
            log(f"  {case.label}: {system.name} ready ({time.monotonic() - started:.1f}s)")
        case_spec = RunSpec(
            concurrency=case.concurrency,
            duration_s=spec.duration_s,
            warmup_s=spec.warmup_s,
            processes=spec.processes,
            progress=False,
        )
        for round_index in range(rounds):
            for system in systems:
                cell = row.get(system.name)
                if cell is None or cell.failure or system.name not in workloads:
                    continue
                report = execute(workloads[system.name], case_spec)
                cell.reports.append(report)
                shown = report.mib_per_s if case.unit == "MiB/s" else report.ops_per_s
                log(
                    f"  [{round_index + 1}/{rounds}] {case.label} c{case.concurrency} "
                    f"{system.name:<9} {shown:>10,.1f} {case.unit}  "
                    f"p99 {report.latency_ms['p99']:.2f} ms  "
                    f"gen {report.generator_cpu_cores:.2f} cores"
                    + ("" if report.ok else f"  FAILED {_describe_failure(report)}")
                )
                if not report.ok:
                    cell.failure = _describe_failure(report)[:160]
    return table


# --- reporting ----------------------------------------------------------------------------
def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs == 0:
        return "—"
    return f"{ours / theirs:.2f}x"


def markdown(
    table: dict[str, dict[str, Cell]], matrix: list[Case], names: list[str], rounds: int
) -> str:
    """Throughput medians with Strata/peer ratios, then p99 latencies, then generator cost."""
    peers = [n for n in names if n != "strata"]
    units = {f"{c.label} c{c.concurrency}": c.unit for c in matrix}
    lines = [
        f"Throughput, median of {rounds} interleaved rounds (ops/s unless marked MiB/s); "
        "ratio = Strata / peer, above 1 means Strata is faster.",
        "",
        "| "
        + " | ".join(["workload", "conns", "unit", *names, *(f"strata/{p}" for p in peers)])
        + " |",
        "|---|---:|---|" + "---:|" * (len(names) + len(peers)),
    ]
    failures: list[str] = []
    for key, row in table.items():
        label, conns = key.rsplit(" c", 1)
        unit = units[key]
        values = {n: row[n].value(unit) if n in row else None for n in names}
        cells = []
        for name in names:
            cell = row.get(name)
            if cell is None:
                cells.append("n/a")
            elif cell.failure:
                cells.append("fail")
                failures.append(f"- {label} c{conns} on {name}: {cell.failure}")
            else:
                cells.append(_fmt(values[name]))
        ratios = [_ratio(values.get("strata"), values[p]) if p in row else "n/a" for p in peers]
        lines.append(f"| {label} | {conns} | {unit} | " + " | ".join(cells + ratios) + " |")
    lines += [
        "",
        "p99 latency in ms, median of the rounds:",
        "",
        "| workload | conns | " + " | ".join(names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for key, row in table.items():
        label, conns = key.rsplit(" c", 1)
        cells = []
        for name in names:
            value = row[name].latency("p99") if name in row else None
            cells.append("n/a" if name not in row else "—" if value is None else f"{value:.2f}")
        lines.append(f"| {label} | {conns} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Load generator's own CPU, median over the rounds: cores busy (µs of CPU per op):",
        "",
        "| workload | conns | " + " | ".join(names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for key, row in table.items():
        label, conns = key.rsplit(" c", 1)
        cells = []
        for name in names:
            good = [r for r in row[name].reports if r.ok] if name in row else []
            if not good:
                cells.append("n/a" if name not in row else "—")
                continue
            cores = statistics.median(r.generator_cpu_cores for r in good)
            per_op = statistics.median(r.generator_cpu_s / max(r.ops, 1) * 1e6 for r in good)
            cells.append(f"{cores:.2f} ({per_op:.0f})")
        lines.append(f"| {label} | {conns} | " + " | ".join(cells) + " |")
    if failures:
        lines += ["", "Failures (a run with any error is not a result):", "", *failures]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """nproc, CPU model, memory, kernel, Python: the context of every figure."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kib = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(memory_kib / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


# --- main ---------------------------------------------------------------------------------
@contextlib.contextmanager
def running(systems: list[System], pin: bool) -> Iterator[list[System]]:
    """Start every system (a failure disables only that one); stop them all, always."""
    cores = {1} if pin and (os.cpu_count() or 1) >= 2 else None
    try:
        for system in systems:
            try:
                system.start(cores)
                log(f"started {system.name} on {system.endpoint} ({system.note})")
            except (RuntimeError, OSError) as exc:
                log(f"could not start {system.name}: {exc}"[:1000])
                system.stop()
        yield systems
    finally:
        for system in systems:
            system.stop()


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # runs the finally blocks that stop the servers


def main(argv: list[str] | None = None) -> int:
    """Install, start, measure, print, stop."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few minutes: 4 KiB, c32 only")
    parser.add_argument("--rounds", type=int, default=None, help="default 3 (quick: 2)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=None, help="seconds before measuring")
    parser.add_argument("--systems", default="", help="comma list, default all")
    parser.add_argument("--cases", default="", help="only rows whose label contains this")
    parser.add_argument("--processes", type=int, default=1, help="generator processes")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server/generator")
    parser.add_argument("--no-install", action="store_true", help="skip installing peers")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 3)
    duration = args.duration or (1.5 if args.quick else 3.5)
    warmup = args.warmup if args.warmup is not None else (0.3 if args.quick else 0.5)
    signal.signal(signal.SIGTERM, _terminate)

    systems = all_systems()
    if args.systems:
        wanted = set(args.systems.split(","))
        systems = [s for s in systems if s.name in wanted]
    matrix = [c for c in cases(args.quick) if args.cases.lower() in c.label.lower()]
    started = time.monotonic()
    if not args.no_install:
        for install in dict.fromkeys(s.install for s in systems):
            try:
                install()
            except Exception as exc:  # one peer failing to install must not stop the rest
                log(f"install failed: {exc}")

    info = machine()
    log(f"machine: {info}")
    probe_dir = PEERS / "run" / "disk-probe"
    figures = disk.probe(
        probe_dir,
        syncs=100 if args.quick else 300,
        sequential_bytes=(256 if args.quick else 1024) * MiB,
    )
    log(f"disk: {figures.to_json()}")
    spec = RunSpec(concurrency=1, duration_s=duration, warmup_s=warmup, processes=args.processes)
    with running(systems, pin=not args.no_pin) as live:
        if not args.no_pin and args.processes == 1 and (os.cpu_count() or 1) >= 2:
            os.sched_setaffinity(0, {0})
        table = run_matrix(live, matrix, rounds, spec)
    names = [s.name for s in systems]
    text = markdown(table, matrix, names, rounds)
    command = "python -m benchmarks.peers" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    header = [
        f"Command: `{command}`",
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['memory_gib']} GiB RAM, "
        f"Linux {info['kernel']}, Python {info['python']}; date {info['date']}.",
        f"Each run: {warmup}s warm-up, {duration}s measured; "
        + ("server pinned to core 1, generator to core 0." if not args.no_pin else "no pinning."),
        "Systems: " + "; ".join(f"{s.name} ({s.note})" for s in systems) + ".",
        f"Disk ceiling: 4 KiB append + fdatasync p50 {figures.fdatasync_p50_ms} ms, "
        f"p99 {figures.fdatasync_p99_ms} ms ({figures.fdatasync_per_s:,.0f} syncs/s one at a "
        f"time); fsync p50 {figures.fsync_p50_ms} ms; sequential write + fsync "
        f"{figures.sequential_write_mib_per_s:,.0f} MiB/s.",
        "",
    ]
    output = "\n".join(header) + text
    print(output)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"peers-{stamp}.md").write_text(output + "\n")
    (RESULTS / f"peers-{stamp}.json").write_text(
        json.dumps(
            {
                "command": command,
                "machine": info,
                "disk": figures.to_json(),
                "rounds": rounds,
                "duration_s": duration,
                "warmup_s": warmup,
                "results": {
                    key: {
                        name: {
                            "failure": cell.failure,
                            "reports": [r.to_json() for r in cell.reports],
                        }
                        for name, cell in row.items()
                    }
                    for key, row in table.items()
                },
            },
            indent=1,
        )
    )
    log(f"wrote {RESULTS}/peers-{stamp}.md and .json in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
