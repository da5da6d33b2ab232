"""Stored files whose life follows the transaction that wrote them (Django has no ``on_rollback``).

A file is written before the row that refers to it commits (an upload must be in storage before
anyone can read its row). So:

* a file written inside ``atomic_with_files()`` is deleted again when the block's body raised, so the
  transaction certainly rolled back; written in a nested block that succeeded, it is handed to the
  enclosing ``atomic_with_files()``, which deletes it if *it* rolls back;
* a file replaced by another (``store`` on a field that held a name) is deleted after the commit
  (``transaction.on_commit``), never before: a rollback, or a commit that fails, keeps it, since the
  row still refers to it.

Not deleted here: the files of a commit that fails (it may have committed, and deleting them would
leave rows without files), of a process killed midway, and of a plain ``transaction.atomic`` around
the block that rolls back after the block succeeded. A file no row refers to is the orphan sweep's
(``governance.core.orphans``) to find. Wrap the outermost block in ``atomic_with_files()`` when a
later step may fail.

Incidents' photos, ledger evidence and project attachments, and mediation's scanned agreements use it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models.fields.files import FieldFile

from governance.core.errors import StorageUnavailable
from governance.core.storage import STORAGE_ERRORS

logger = logging.getLogger(__name__)

_written: ContextVar[list[tuple[Storage, str]] | None] = ContextVar("files_written_in_transaction", default=None)


@contextmanager
def atomic_with_files(using: str | None = None) -> Iterator[None]:
    """``transaction.atomic()`` whose files written with ``store`` are deleted again if its body raised.

    Only when its body raised, so the transaction certainly rolled back: a commit that fails may have
    committed, and deleting then would leave rows without files.
    """
    enclosing = _written.get()
    written: list[tuple[Storage, str]] = []
    token = _written.set(written)
    body_raised = False
    try:
        with transaction.atomic(using=using):
            try:
                yield
            except BaseException:
                body_raised = True
                raise
    except BaseException:
        if body_raised:
            for storage, name in written:
                discard(storage, name)
        raise
    else:
        # Only a savepoint was released: the enclosing block may still roll back and must delete these too.
        if enclosing is not None:
            enclosing.extend(written)
    finally:
        _written.reset(token)


def store(field_file: FieldFile, filename: str, content: bytes) -> None:
    """Write ``content`` into the file field (the row is not saved), inside ``atomic_with_files()``.

    The new file is deleted if the block rolls back; the file the field held before, if any, is deleted
    once the transaction has committed. ``StorageUnavailable`` when the storage does not answer.
    """
    written = _written.get()
    if written is None:
        raise RuntimeError("store() writes a file inside atomic_with_files(), which deletes it on rollback")
    previous = field_file.name
    try:
        field_file.save(filename, ContentFile(content), save=False)
    except STORAGE_ERRORS as exc:
        raise StorageUnavailable() from exc
    written.append((field_file.storage, field_file.name))
    if previous and previous != field_file.name:
        delete_on_commit(field_file.storage, previous)


def delete_on_commit(storage: Storage, name: str) -> None:
    """Delete a file no row will refer to once this transaction has committed (nothing, if it does not)."""
    transaction.on_commit(partial(discard, storage, name), robust=True)


def discard(storage: Storage, name: str) -> None:
    """Delete a file; a storage that does not answer leaves it to the orphan sweep."""
    try:
        storage.delete(name)  # a file already gone is no error (local folder and S3 alike)
    except STORAGE_ERRORS:
        logger.warning("could not delete %s; the orphan sweep will find it", name, exc_info=True)
