"""Composition root: engine -> storage -> services -> protocols -> one ASGI app.

The only module that knows every layer. Services receive a ``Store`` and never learn
whether it is local or (later) a cluster.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from strata.api import tiering_metrics
from strata.api.admin import AdminApi, RequestGate, store_summary
from strata.api.asgi import StrataApp
from strata.api.audit import audit_page, key_use_call
from strata.api.cloudtrail import CloudTrailApi
from strata.api.cost import CostView, LifecyclePreview
from strata.api.data_metrics import DataMetrics
from strata.api.dynamodb.handler import DynamoDbApi
from strata.api.dynamodb.model import MEMBERS
from strata.api.dynamodb.streams import STREAMS_OPERATIONS, StreamsApi
from strata.api.iam.context import IamServices
from strata.api.iam.handler import IamApi
from strata.api.iam.model import IAM_ALL, STS_ALL
from strata.api.kms.handler import KmsApi
from strata.api.kms.operations import OPERATIONS as KMS_OPERATIONS
from strata.api.metrics import Metrics, Sample
from strata.api.s3.handler import S3Api
from strata.api.s3.handlers import HANDLERS
from strata.api.s3.routes import ROUTES
from strata.api.sts import StsApi
from strata.config import Config
from strata.credentials import KeyPair, KeyRing, generate_pair
from strata.engine.rocksdb import WalDamaged
from strata.errors import DataCorruption
from strata.service.audit.delivery import Delivery
from strata.service.audit.trail import AuditTrail
from strata.service.background import BackgroundTask
from strata.service.cost.ledger import Ledger
from strata.service.cost.prices import Prices
from strata.service.cost.report import CostReport
from strata.service.cost.usage import S3Usage
from strata.service.iam.access import AccessControl
from strata.service.iam.directory import Directory
from strata.service.iam.groups import Groups
from strata.service.iam.holders import PolicyHolders
from strata.service.iam.identities import DirectoryPolicies
from strata.service.iam.keychain import KeyChain
from strata.service.iam.managed import ManagedPolicies
from strata.service.iam.policy.decider import PolicyDecider
from strata.service.iam.principal import root_principal
from strata.service.iam.roles import Roles
from strata.service.iam.session_policies import SessionPolicyDecider
from strata.service.iam.sessions import Sessions
from strata.service.iam.users import Users
from strata.service.kms.keys import KeyService
from strata.service.kms.object_keys import KmsObjectKeys
from strata.service.kms.table_keys import KmsTableKeys
from strata.service.objects import statistics, storage_time
from strata.service.objects.bucket_policies import BucketPolicies
from strata.service.objects.buckets import BucketService
from strata.service.objects.documents import ObjectDocuments
from strata.service.objects.encryption import Encryptions
from strata.service.objects.lifecycle.configs import LifecycleConfigs
from strata.service.objects.lifecycle.engine import LifecycleEngine, metrics_readers
from strata.service.objects.objects import ObjectService
from strata.service.objects.scrub import Scrubber
from strata.service.objects.tiering.service import Tiering
from strata.service.tables import capacity
from strata.service.tables.tables import TableService
from strata.storage import spaces, store_clock
from strata.storage.blobs import BlobStore, blob_files_present
from strata.storage.clock import SystemClock
from strata.storage.disk import DiskGuard, disk_space
from strata.storage.keys import prefix_end
from strata.storage.master_key import MasterKey, MasterKeyError, load_master_key
from strata.storage.snapshots import Snapshots, clean_up, finish_swap
from strata.storage.store import LocalStore
from strata.storage.volumes.compaction import Compactor
from strata.storage.volumes.files import extent_files_present
from strata.storage.volumes.volume import Volume, Volumes, default_specs

log = logging.getLogger("strata")


class StartupRefused(Exception):
    """The data directory is in a state where starting would lose or hide data."""


@dataclass
class Strata:
    """A running server's parts, for the server runner and for tests."""

    config: Config
    app: StrataApp
    store: LocalStore
    blobs: BlobStore
    disk: DiskGuard
    keys: KeyRing
    root: KeyPair
    root_generated: bool

    def close(self) -> None:
        self.store.close()


def ensure_root(config: Config, keys: KeyRing) -> tuple[KeyPair, bool]:
    """The root key pair: from the environment, else the stored one, else a new one."""
    keys.load()
    if config.root_access_key and config.root_secret_key:
        wanted = KeyPair(config.root_access_key, config.root_secret_key, True)
        current = keys.root()
        if current is None or (current.access_key, current.secret_key) != (
            wanted.access_key,
            wanted.secret_key,
        ):
            keys.set_root(wanted)
        return wanted, False
    current = keys.root()
    if current is not None:
        return current, False
    pair = generate_pair(root=True)
    keys.set_root(pair)
    return pair, True


def _referenced_blobs(store: LocalStore, prefix: str) -> set[str]:
    """Blob ids beginning with ``prefix`` that a BLOB_REFS entry keeps (keys are the ids)."""
    start = prefix.encode()
    end = prefix_end(start)
    return {key.decode() for key, _ in store.scan(spaces.BLOB_REFS, start, end)}


def _rocksdb_bytes(store: LocalStore, kind: str) -> float:
    return float(store.engine.memory_bytes()[kind])


def _resident_bytes() -> float:
    with open("/proc/self/statm", "rb") as statm:
        return float(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))


_ROCKSDB_MEMORY = {
    "memtables": "RocksDB memtables (charged to the block cache budget).",
    "block_cache": "RocksDB block cache in use.",
    "table_readers": "RocksDB index and filter blocks held by table readers.",
}


def _register_process_metrics(metrics: Metrics, store: LocalStore, data_dir: str) -> None:
    metrics.register(
        "strata_wal_fsyncs_total",
        "WAL fsyncs; each covers every write that was waiting for it.",
        lambda: float(store.fsyncs),
        kind="counter",
    )
    for kind, text in _ROCKSDB_MEMORY.items():
        metrics.register(f"strata_rocksdb_{kind}_bytes", text, partial(_rocksdb_bytes, store, kind))
    metrics.register(
        "process_resident_memory_bytes", "Resident set size of the server.", _resident_bytes
    )
    metrics.register(
        "strata_disk_free_bytes",
        "Bytes the server can still write on the data directory's filesystem.",
        lambda: float(disk_space(data_dir).free_bytes),
    )
    metrics.register(
        "strata_disk_used_bytes",
        "Bytes used on the data directory's filesystem (by anything, not only Strata).",
        lambda: float(disk_space(data_dir).used_bytes),
    )
    metrics.register(
        "strata_disk_size_bytes",
        "Capacity of the data directory's filesystem.",
        lambda: float(disk_space(data_dir).size_bytes),
    )


def _known_operations() -> dict[str, frozenset[str]]:
    """The operations a metrics label may name; anything a client makes up is "unknown"."""
    return {
        "s3": frozenset(rule.operation for rule in ROUTES) | frozenset(HANDLERS) | {"GetObject"},
        "dynamodb": frozenset(MEMBERS),
        "streams": frozenset(STREAMS_OPERATIONS),
        "iam": frozenset(IAM_ALL),
        "sts": frozenset(STS_ALL),
        "cloudtrail": frozenset({"LookupEvents"}),
        "kms": frozenset(KMS_OPERATIONS),
    }


def _register_audit_metrics(metrics: Metrics, trail: AuditTrail) -> None:
    metrics.register(
        "strata_audit_records_written_total",
        "Audit trail records written durably (one per API call).",
        lambda: float(trail.written),
        kind="counter",
    )
    metrics.register(
        "strata_audit_records_dropped_total",
        "Audit trail records lost because the buffer overflowed while writes failed.",
        lambda: float(trail.dropped),
        kind="counter",
    )


def build_volumes(config: Config, data_dir: str, disk: DiskGuard | None) -> Volumes:
    """The volumes the configuration names, and the storage-class map."""
    directories = {
        "hot": config.volume_hot_dir,
        "cold": config.volume_cold_dir,
        "archive": config.volume_archive_dir,
    }
    classes = dict(pair.split("=", 1) for pair in config.storage_class_volumes.split(",") if pair)
    return Volumes(default_specs(data_dir, directories), classes, disk)


def _volume_samples(volumes: Volumes, read: Callable[[Volume], float]) -> list[Sample]:
    return [({"volume": name}, read(volume)) for name, volume in volumes.by_name.items()]


def _reclaimable_bytes(volume: Volume) -> float:
    live = sum(volume.live_bytes.values())
    return float(max(0, sum(volume.file_bytes().values()) - live))


def _register_volume_metrics(metrics: Metrics, volumes: Volumes, objects: ObjectService) -> None:
    metrics.register(
        "strata_volume_live_bytes",
        "Stored bytes of extents some record references, per volume.",
        lambda: _volume_samples(volumes, lambda v: float(sum(v.live_bytes.values()))),
    )
    metrics.register(
        "strata_volume_reclaimable_bytes",
        "Bytes of extent files that no record references (compaction reclaims them).",
        lambda: _volume_samples(volumes, _reclaimable_bytes),
    )
    metrics.register(
        "strata_volume_free_bytes",
        "Bytes still free on the filesystem of each volume's directory.",
        lambda: _volume_samples(volumes, lambda v: float(disk_space(v.spec.directory).free_bytes)),
    )
    metrics.register(
        "strata_volume_sync_rounds_total",
        "Grouped fdatasync rounds of extent files; each covers every writer waiting.",
        lambda: _volume_samples(volumes, lambda v: float(v.files.sync.rounds_total)),
        kind="counter",
    )
    metrics.register(
        "strata_object_moves_total",
        "Object versions whose bytes moved to another volume.",
        lambda: float(objects.moves_total),
        kind="counter",
    )
    metrics.register(
        "strata_object_moved_bytes_total",
        "Object bytes moved to another volume.",
        lambda: float(objects.moved_bytes_total),
        kind="counter",
    )


def _start_ledger(ledger: Ledger, store: LocalStore, clock: SystemClock) -> None:
    storage_time.counting_since(store, clock.now_s())  # the cost view counts from here
    ledger.start()


def _start_compaction(task: BackgroundTask, config: Config) -> None:
    if config.compaction_interval_s > 0:
        task.start()


def _register_compaction_metrics(metrics: Metrics, compactor: Compactor) -> None:
    metrics.register(
        "strata_compaction_passes_total",
        "Compaction passes over every volume's extent files.",
        lambda: float(compactor.passes_total),
        kind="counter",
    )
    metrics.register(
        "strata_compaction_moved_bytes_total",
        "Stored bytes of live extents compaction copied out of mostly-dead files.",
        lambda: float(compactor.moved_bytes_total),
        kind="counter",
    )
    metrics.register(
        "strata_compaction_removed_files_total",
        "Extent files compaction removed once no live extent was left in them.",
        lambda: float(compactor.removed_files_total),
        kind="counter",
    )


def _register_scrub_metrics(metrics: Metrics, scrubber: Scrubber) -> None:
    metrics.register(
        "strata_scrub_passes_total",
        "Complete background scrub passes over every record and blob.",
        lambda: float(scrubber.passes_total),
        kind="counter",
    )
    metrics.register(
        "strata_scrub_checked_objects_total",
        "Object versions whose blobs the scrub read and verified.",
        lambda: float(scrubber.checked_total),
        kind="counter",
    )
    metrics.register(
        "strata_scrub_damaged_objects_total",
        "Damaged object versions found by the scrub (counted again by each pass).",
        lambda: float(scrubber.damaged_total),
        kind="counter",
    )
    metrics.register(
        "strata_scrub_damaged_objects",
        "Damaged object versions found by the last complete scrub pass: alert when > 0.",
        lambda: float(scrubber.damaged_last_pass),
    )
    metrics.register(
        "strata_scrub_damaged_spaces",
        "Spaces (RocksDB column families) whose records failed their checksums in the last "
        "complete scrub pass: alert when > 0.",
        lambda: float(scrubber.damaged_spaces_last_pass),
    )


def check_data_dir(data_dir: str) -> None:
    """Make the data directory owner-only (0700), or refuse a layout that would lose data."""
    os.makedirs(data_dir, mode=0o700, exist_ok=True)
    mode = os.stat(data_dir).st_mode & 0o777
    if mode & 0o077:
        try:
            os.chmod(data_dir, 0o700)
            log.warning("data directory %s was mode %o: now 0700", data_dir, mode)
        except OSError as exc:
            log.warning("data directory %s is mode %o and stays so: %s", data_dir, mode, exc)
    db_path = os.path.join(data_dir, "db")
    if not os.path.exists(os.path.join(db_path, "CURRENT")) and (
        blob_files_present(os.path.join(data_dir, "blobs"))
        or extent_files_present(os.path.join(data_dir, "volumes"))
    ):
        raise StartupRefused(
            f"{data_dir} has object files in blobs/ or volumes/ but no database in db/: "
            "starting would create an empty database and then remove every blob as "
            "unreferenced. Restore db/ from a backup, or move blobs/ and volumes/ away to "
            "start with an empty data directory."
        )


def _master_key(config: Config, data_dir: str) -> MasterKey:
    """The master key (created in the data dir at first start)."""
    try:
        return load_master_key(data_dir, config.master_key, config.master_key_file)
    except MasterKeyError as exc:
        raise StartupRefused(str(exc)) from exc


def _table_service(dynamodb: DynamoDbApi) -> TableService | None:
    """The current tables: a restore or reset replaces them (``DynamoDbApi.reload``)."""
    return dynamodb.tables.tables if dynamodb.tables is not None else None


def _started(start: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    """A synchronous ``start`` as an admin swap hook."""

    async def hook() -> None:
        start()

    return hook


def _iam_services(
    account_id: str, directory: Directory, keychain: KeyChain, clock: SystemClock,
    access: AccessControl,
) -> IamServices:  # fmt: skip
    managed = ManagedPolicies(directory, clock, account_id)
    return IamServices(
        account_id=account_id,
        directory=directory,
        users=Users(directory, clock),
        groups=Groups(directory, clock),
        managed=managed,
        holders=PolicyHolders(directory, managed),
        roles=Roles(directory, clock),
        keychain=keychain,
        access=access,
    )


def build(config: Config) -> Strata:
    data_dir = os.path.abspath(config.data_dir)
    disk = DiskGuard(
        data_dir,
        reserve_bytes=config.disk_reserve_bytes,
        free_min_bytes=config.disk_free_min_bytes,
        free_warn_bytes=config.disk_free_warn_bytes,
    )
    # On a full disk, start-up needs room (the swap below, RocksDB's WAL replay, a new WAL
    # and MANIFEST), and the blob GC is what frees the blobs of failed writes: the reserve
    # goes first, and comes back with the refresh after the GC if there is room for it.
    disk.release_for_start()
    # Then: a restore or reset interrupted after READY may have moved db/ away already.
    if finish_swap(data_dir) is not None:
        log.info("completed a restore or reset interrupted by the last stop")
    clean_up(data_dir)
    check_data_dir(data_dir)
    clock = SystemClock(config.clock_offset_s)
    # Start-up work that grows with the store is timed in the log, so an operator waiting
    # on a big store's restart sees what it is doing and for how long.
    started = time.monotonic()
    log.info("opening the database (replaying its WAL)")
    try:
        store = LocalStore(os.path.join(data_dir, "db"), clock, config.wal_recovery, disk)
    except WalDamaged as exc:
        raise StartupRefused(str(exc)) from exc
    log.info("database open in %.2f s", time.monotonic() - started)
    store_clock.restore(clock, store)  # time never runs back under what was stamped
    started = time.monotonic()
    blobs = BlobStore(os.path.join(data_dir, "blobs"), disk)
    removed = blobs.collect_garbage(
        partial(_referenced_blobs, store), config.startup_gc_fraction_max
    )
    volumes = build_volumes(config, data_dir, disk)
    volumes.load(store)
    removed += volumes.remove_dead_files(config.startup_gc_fraction_max)
    log.info(
        "start-up blob GC in %.2f s: removed %d unreferenced or partial blob and extent files",
        time.monotonic() - started,
        removed,
    )
    disk.refresh()
    keys = KeyRing(data_dir, config.account_id)
    root, generated = ensure_root(config, keys)
    directory = Directory(store)  # IAM users, keys, groups, policies, roles, sessions
    identities = DirectoryPolicies(directory, ManagedPolicies(directory, clock, config.account_id))
    bucket_policies = BucketPolicies(store)
    access = AccessControl()  # its Decider once every resource policy source exists
    access.bucket_denies = bucket_policies.denies  # even root meets a bucket policy's Deny
    keychain = KeyChain(directory, keys, clock, config.account_id)
    iam = _iam_services(config.account_id, directory, keychain, clock, access)
    iam.root_keys = keys
    buckets = BucketService(store)
    statistics.ensure(store)
    metrics = Metrics(operations=_known_operations())
    _register_process_metrics(metrics, store, data_dir)
    master = _master_key(config, data_dir)
    encryptions = Encryptions(master, config.sse_c_http_allowed)
    try:
        kms = KeyService(store, config.account_id, config.region, master)
    except DataCorruption as exc:  # its key material is wrapped by another master key
        raise StartupRefused(exc.detail) from exc
    # aws:kms:dsse (two layers) stays unregistered: S3's 501, not a claim of two layers.
    encryptions.register("aws:kms", KmsObjectKeys(kms, access))
    objects = ObjectService(store, blobs, buckets, volumes, encryptions)
    tiering = Tiering(
        objects,
        buckets,
        interval_s=config.intelligent_tiering_interval_s,
        flush_interval_s=config.intelligent_tiering_access_flush_s,
        restore_delay_scale=config.restore_delay_scale,
    )
    tiering_metrics.register(metrics, tiering)
    scrubber = Scrubber(store, objects.locator, config.scrub_interval_s, objects.encryptions)
    _register_scrub_metrics(metrics, scrubber)
    lifecycle = LifecycleConfigs(store)
    lifecycle_engine = LifecycleEngine(
        objects, lifecycle, config.lifecycle_interval_s, config.lifecycle_chunk_versions
    )
    for name, (text, read, kind) in metrics_readers(lifecycle_engine).items():
        metrics.register(name, text, read, kind=kind)
    _register_volume_metrics(metrics, volumes, objects)
    compactor = Compactor(
        store,
        volumes,
        config.compaction_interval_s,
        config.compaction_bytes_per_s,
        config.compaction_garbage_fraction_min,
    )
    _register_compaction_metrics(metrics, compactor)
    compaction = BackgroundTask("strata-compaction", compactor.run)
    dynamodb = DynamoDbApi(
        store,
        config.region,
        config.ttl_sweep_interval_s,
        access,
        ObjectDocuments(objects),
        table_keys=KmsTableKeys(kms),
    )
    trail = AuditTrail(store, clock, config.audit_retention_days, config.audit_flush_interval_s)
    if config.audit:  # S3's and DynamoDB's own uses of KMS keys, as CloudTrail shows them
        kms.on_use = lambda use: trail.add(key_use_call(use, config.account_id, clock.now_s()))
    _register_audit_metrics(metrics, trail)
    delivery = (
        Delivery(
            trail,
            objects,
            config.audit_bucket,
            config.account_id,
            config.region,
            config.audit_delivery_interval_s,
        )
        if config.audit_bucket
        else None
    )
    # The delivery stops before the trail it reads from.
    audit_tasks: list[AuditTrail | Delivery] = [trail] if delivery is None else [delivery, trail]
    assert dynamodb.tables is not None
    resources = (bucket_policies, dynamodb.policies)
    access.decider = SessionPolicyDecider(
        PolicyDecider(identities, resources, clock.now_s, identities.tags), identities, clock.now_s
    )
    gate = RequestGate(store)
    s3_usage = S3Usage()
    tiering.restores.on_started = s3_usage.restore
    prices = Prices.configured(config.cost_prices)
    cost = CostView(
        CostReport(store, prices),
        clock,
        buckets,
        partial(_table_service, dynamodb),
        config.metrics_series_max,
    )
    cost.register(metrics)
    ledger = Ledger(
        store, clock, s3_usage, capacity.USAGE, cost.table_sizes, config.cost_flush_interval_s
    )
    admin = AdminApi(
        snapshots=Snapshots(data_dir, store, blobs, volumes),
        gate=gate,
        keys=keychain,
        clock=clock,
        auth_enabled=config.auth,
        before_swap=[
            dynamodb.stop,
            scrubber.stop,
            lifecycle_engine.stop,
            *(t.stop for t in audit_tasks),
            compaction.stop,
            ledger.stop,
            tiering.stop,
            keychain.usage.stop,
        ],
        after_swap=[
            partial(store_clock.persist, clock, store),
            _started(partial(volumes.replaced, store)),
            dynamodb.reload,
            _started(directory.load),
            _started(kms.load),
            _started(scrubber.start),
            _started(lifecycle.load),
            _started(lifecycle_engine.start),
            *(_started(t.start) for t in audit_tasks),
            _started(partial(_start_compaction, compaction, config)),
            _started(partial(statistics.ensure, store)),
            _started(ledger.start),
            _started(tiering.start),
            _started(keychain.usage.start),
        ],
        summary=store_summary(buckets, dynamodb),
        audit=partial(audit_page, trail, region=config.region),
        cost=cost.page,
        lifecycle_preview=LifecyclePreview(store, prices, clock, buckets).page,
        before_clock_move=[ledger.flush_or_keep],
    )
    DataMetrics(buckets, partial(_table_service, dynamodb), config.metrics_series_max).register(
        metrics
    )
    app = StrataApp(
        s3=S3Api(
            buckets,
            objects,
            config.region,
            keys=keychain if config.auth else None,
            access=access,
            account_id=config.account_id,
            lifecycle=lifecycle,
            usage=s3_usage,
        ),
        dynamodb=dynamodb,
        streams=StreamsApi(dynamodb),
        keys=keychain,
        clock=clock,
        metrics=metrics,
        auth_enabled=config.auth,
        admin=admin,
        gate=gate,
        unsigned_principal=root_principal(config.account_id),
        iam=IamApi(iam),
        sts=StsApi(Sessions(directory, clock, config.account_id, access)),
        cloudtrail=CloudTrailApi(trail, config.region, access),
        audit=trail if config.audit else None,
        kms=KmsApi(kms, access),
    )
    strata = Strata(config, app, store, blobs, disk, keys, root, generated)
    app.s3.context.tiering = tiering  # type: ignore[attr-defined]
    # Background work (drops, backfills, TTL expiry) runs with the lifespan; it stops
    # before the store closes.
    app.startup_hooks.append(dynamodb.start)
    app.startup_hooks.append(scrubber.start)
    app.startup_hooks.append(lifecycle_engine.start)
    app.startup_hooks.append(partial(_start_compaction, compaction, config))
    app.startup_hooks.append(disk.start)
    app.startup_hooks.extend(t.start for t in audit_tasks)
    app.startup_hooks.append(partial(_start_ledger, ledger, store, clock))
    app.startup_hooks.append(tiering.start)
    app.startup_hooks.append(keychain.usage.start)
    app.shutdown_hooks.append(disk.stop)
    app.shutdown_hooks.append(scrubber.stop)
    app.shutdown_hooks.append(lifecycle_engine.stop)
    app.shutdown_hooks.append(dynamodb.stop)
    app.shutdown_hooks.extend(t.stop for t in audit_tasks)
    app.shutdown_hooks.append(compaction.stop)
    app.shutdown_hooks.append(ledger.stop)
    app.shutdown_hooks.append(tiering.stop)
    app.shutdown_hooks.append(keychain.usage.stop)  # before the store closes
    app.shutdown_hooks.append(volumes.close)
    app.shutdown_hooks.append(strata.close)
    return strata
