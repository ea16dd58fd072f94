"""Errors of backups, restores, exports and imports (``api/dynamodb/errors.py`` maps them).

Tree (under ``errors.TablesError``)::

    TableNotFound        the source table does not exist -> TableNotFoundException
    TableInUse           the table is being created or restored -> TableInUseException
    TableAlreadyExists   a restore's target name is taken -> TableAlreadyExistsException
    BackupNotFound       no backup has that ARN -> BackupNotFoundException
    BackupInUse          the backup is being created, deleted or restored -> BackupInUseException
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
