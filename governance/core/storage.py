"""The file storage (``STORAGES["default"]``: the local folder or an S3-compatible object store).

Code reads and writes files through Django's storage API only, never a path or a bucket, so the
same code runs on one machine and on many. What differs is how a storage fails: a local folder
raises ``OSError``; django-storages' S3 backend raises botocore's errors (a store that does not
answer, a refused request), and ``FileNotFoundError`` for a missing object, as the local folder does.
"""

from __future__ import annotations


def _storage_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError]
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # no S3 backend installed
        pass
    else:
        errors += [BotoCoreError, ClientError]
    return tuple(errors)


# What a storage raises when it cannot do what was asked (FileNotFoundError, a missing file, among them).
STORAGE_ERRORS = _storage_errors()
