"""Drive a workload with N keep-alive connections for a fixed time, in one or more processes.

A worker is one connection running operations back to back (closed loop, like YCSB and
warp); each completes at least one measured operation, however long it takes. Latencies go
into per-process histograms that the parent merges, so percentiles stay exact across
`--processes`. Each process measures its own CPU time with getrusage over the measured
window: the figure docs/benchmarks.md quotes for the generator's cost.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import multiprocessing.sharedctypes
import resource
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from strata.bench.http import Client, HTTPError
from strata.bench.stats import Report, Tally

T = TypeVar("T")


class OpError(Exception):
    """An operation that got an answer, but not a successful one."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class Workload(Protocol):
    """What the runner needs from an S3 or DynamoDB workload."""

    name: str
    endpoint: str
    host: str
    port: int
    timeout_s: float

    def params(self) -> dict[str, Any]:
        """Settings worth printing next to the figures."""
        ...

    async def prepare(self, concurrency: int) -> None:
        """Create buckets/tables and load data; runs once, before any measuring."""
        ...

    def bind(self, process_index: int, process_count: int) -> None:
        """Set up per-process state (random streams, insert counters) after a fork."""
        ...

    async def run_once(self, client: Client, worker: int, seq: int) -> int:
        """One operation; returns payload bytes moved, raises OpError or HTTPError."""
        ...


@dataclass(frozen=True, slots=True)
class RunSpec:
    """How hard and how long to push."""

    concurrency: int
    duration_s: float
    warmup_s: float = 0.0
    processes: int = 1
    progress: bool = True


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on uvloop when it is installed (it is a Strata dependency)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency
        return asyncio.run(factory())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(factory())


def _cpu_seconds() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


@dataclass(slots=True)
class _Outcome:
    tally: Tally
    measure_start: float
    measure_end: float


async def _drive(
    workload: Workload,
    spec: RunSpec,
    workers: int,
    worker_offset: int,
    live: list[int],
    ready: Callable[[], Awaitable[None]] | None,
) -> _Outcome:
    """Run `workers` connections in this process; `live` gets [ops, bytes, errors]."""
    clients = [
        Client(workload.host, workload.port, timeout_s=workload.timeout_s) for _ in range(workers)
    ]
    try:
        await asyncio.gather(*(client.connect() for client in clients))
    except HTTPError as exc:
        for client in clients:
            client.close()
        tally = Tally()
        tally.error(exc.code, f"cannot connect to {workload.endpoint}: {exc.message}")
        if ready is not None:
            await ready()  # the other processes wait for this one at the barrier
        now = time.perf_counter()
        return _Outcome(tally, now, now)
    if ready is not None:
        await ready()
    tally = Tally()
    hist = tally.hist
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    measure_start = start + spec.warmup_s
    deadline = measure_start + spec.duration_s
    measure_start_ns = int(measure_start * 1e9)
    deadline_ns = int(deadline * 1e9)
    cpu_at_start: list[tuple[float, float]] = []

    def snapshot_cpu() -> None:
        cpu_at_start.append(_cpu_seconds())

    if spec.warmup_s > 0:
        loop.call_later(spec.warmup_s, snapshot_cpu)
    else:
        snapshot_cpu()

    # The window opens at the first operation started after the warm-up: when one operation
    # outlasts the warm-up (a 256 MiB PUT to a slow server), the clock starts when it ends.
    first_measured_ns = [deadline_ns * 2]

    async def worker(index: int) -> None:
        client = clients[index]
        global_worker = worker_offset + index
        seq = 0
        measured = False  # every worker completes at least one measured operation
        now_ns = time.perf_counter_ns
        run_once = workload.run_once
        while True:
            started = now_ns()
            if started >= deadline_ns and measured:
                return
            if started >= measure_start_ns and not measured:
                measured = True
                first_measured_ns[0] = min(first_measured_ns[0], started)
            try:
                moved = await run_once(client, global_worker, seq)
            except (OpError, HTTPError) as exc:
                live[2] += 1
                if measured:
                    tally.error(exc.code, exc.message)
            else:
                live[0] += 1
                live[1] += moved
                if measured:
                    hist.record((now_ns() - started) // 1000)
                    tally.ops += 1
                    tally.bytes += moved
            seq += 1

    try:
        await asyncio.gather(*(worker(i) for i in range(workers)))
    finally:
        for client in clients:
            client.close()
    end = time.perf_counter()
    user, system = _cpu_seconds()
    user0, system0 = cpu_at_start[0] if cpu_at_start else (user, system)
    tally.cpu_user_s = user - user0
    tally.cpu_sys_s = system - system0
    opened = min(first_measured_ns[0] / 1e9, end)
    return _Outcome(tally, opened, max(end, opened))


class _Progress:
    """Once a second, to stderr: throughput of the last second and errors so far."""

    def __init__(self, read: Callable[[], tuple[int, int, int]], enabled: bool) -> None:
        self._read = read
        self._enabled = enabled
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._tty = sys.stderr.isatty()

    def __enter__(self) -> _Progress:
        if self._enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
            if self._tty:
                sys.stderr.write("\n")

    def _loop(self) -> None:
        started = time.monotonic()
        last_ops, last_bytes, _ = self._read()
        while not self._stop.wait(1.0):
            ops, moved, errors = self._read()
            elapsed = time.monotonic() - started
            line = (
                f"[{elapsed:5.0f}s] {ops - last_ops:>9,} ops/s  "
                f"{(moved - last_bytes) / 1024**2:>9,.1f} MiB/s  errors {errors:,}"
            )
            sys.stderr.write(("\r" + line) if self._tty else (line + "\n"))
            sys.stderr.flush()
            last_ops, last_bytes = ops, moved


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def execute(workload: Workload, spec: RunSpec) -> Report:
    """Run the measured phase (prepare must have run) and return the merged report."""
    processes = max(1, min(spec.processes, spec.concurrency))
    if processes == 1:
        live = [0, 0, 0]
        workload.bind(0, 1)
        with _Progress(lambda: (live[0], live[1], live[2]), spec.progress):
            outcome = run_async(lambda: _drive(workload, spec, spec.concurrency, 0, live, None))
        tally, window = outcome.tally, outcome.measure_end - outcome.measure_start
    else:
        tally, window = _execute_forked(workload, spec, processes)
    return Report.build(
        name=workload.name,
        target=workload.endpoint,
        concurrency=spec.concurrency,
        processes=processes,
        duration_s=window,
        tally=tally,
        params=workload.params(),
    )


def _execute_forked(workload: Workload, spec: RunSpec, processes: int) -> tuple[Tally, float]:
    context = multiprocessing.get_context("fork")
    shared = context.RawArray("q", 3 * processes)
    barrier = context.Barrier(processes + 1)
    pipes = [context.Pipe(duplex=False) for _ in range(processes)]
    shares = _split(spec.concurrency, processes)
    offsets = [sum(shares[:i]) for i in range(processes)]
    children = [
        context.Process(
            target=_child,
            args=(
                workload,
                spec,
                i,
                processes,
                shares[i],
                offsets[i],
                shared,
                barrier,
                pipes[i][1],
            ),
            daemon=True,
        )
        for i in range(processes)
    ]
    for child in children:
        child.start()

    def read() -> tuple[int, int, int]:
        values = list(shared)
        return sum(values[0::3]), sum(values[1::3]), sum(values[2::3])

    tally = Tally()
    starts: list[float] = []
    ends: list[float] = []
    try:
        barrier.wait(timeout=120)
        with _Progress(read, spec.progress):
            for receiver, _ in pipes:
                message: dict[str, Any] = receiver.recv()
                tally.merge(Tally.from_json(message["tally"]))
                starts.append(float(message["start"]))
                ends.append(float(message["end"]))
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
    # CPU is the children's: the parent only waits, merges and prints progress.
    return tally, max(ends) - min(starts)


def _child(
    workload: Workload,
    spec: RunSpec,
    index: int,
    processes: int,
    workers: int,
    offset: int,
    shared: Any,
    barrier: Any,
    sender: multiprocessing.connection.Connection,
) -> None:
    workload.bind(index, processes)
    live = [0, 0, 0]

    async def ready() -> None:
        await asyncio.get_running_loop().run_in_executor(None, barrier.wait, 120)

    async def main() -> _Outcome:
        async def publish() -> None:
            while True:
                shared[3 * index], shared[3 * index + 1], shared[3 * index + 2] = live
                await asyncio.sleep(0.2)

        publisher = asyncio.create_task(publish())
        try:
            return await _drive(workload, spec, workers, offset, live, ready)
        finally:
            publisher.cancel()
            shared[3 * index], shared[3 * index + 1], shared[3 * index + 2] = live

    outcome = run_async(main)
    sender.send(
        {
            "tally": outcome.tally.to_json(),
            "start": outcome.measure_start,
            "end": outcome.measure_end,
        }
    )
    sender.close()
