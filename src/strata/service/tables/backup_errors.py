"""Errors of backups, restores, exports and imports (``api/dynamodb/errors.py`` maps them).

Tree (under ``errors.TablesError``)::

    TableNotFound        the source table does not exist -> TableNotFoundException
    TableInUse           the table is being created or restored -> TableInUseException
    TableAlreadyExists   a restore's target name is taken -> TableAlreadyExistsException
    BackupNotFound       no backup has that ARN -> BackupNotFoundException
    BackupInUse          the backup is being created, deleted or restored -> BackupInUseException
    ExportNotFound       no export has that ARN -> ExportNotFoundException
    ExportConflict       a ClientToken reused with other parameters -> ExportConflictException
    InvalidExportTime    an ExportTime in the future -> InvalidExportTimeException
    PointInTimeRecoveryUnavailable  a past ExportTime, an incremental export, with no PITR
    ImportNotFound       no import has that ARN -> ImportNotFoundException
    ImportConflict       a ClientToken reused with other parameters -> ImportConflictException
"""

from __future__ import annotations

from strata.service.tables.errors import TablesError


class TableNotFound(TablesError):
    default_message = "Table not found"


class TableInUse(TablesError):
    default_message = "Table is in use"


class TableAlreadyExists(TablesError):
    default_message = "Table already exists"


class BackupNotFound(TablesError):
    default_message = "Backup not found"


class BackupInUse(TablesError):
    default_message = "Backup is in use"


class ExportNotFound(TablesError):
    default_message = "Export not found"


class ExportConflict(TablesError):
    default_message = "Export conflict"


class InvalidExportTime(TablesError):
    default_message = "Invalid export time"


class PointInTimeRecoveryUnavailable(TablesError):
    default_message = "Point in time recovery is not enabled for this table"


class ImportNotFound(TablesError):
    default_message = "Import not found"


class ImportConflict(TablesError):
    default_message = "Import conflict"
