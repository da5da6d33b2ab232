"""The export kernel's tests: the incident world (its kinds are the real ones) and kinds made for a test."""

from __future__ import annotations

import pytest

from governance.exports.kinds import KINDS, ExportKind, register
from tests.dashboards.conftest import world  # noqa: F401  (the incident world)
from tests.incidents.conftest import categories, fire_exit, noise, road  # noqa: F401  (its fixtures)


@pytest.fixture
def register_kind():
    """Register export kinds for one test, and take them away after it."""
    added: list[str] = []

    def add(cls: type[ExportKind]) -> ExportKind:
        register(cls)
        added.append(cls.name)
        return KINDS[cls.name]

    yield add
    for name in added:
        KINDS.pop(name, None)


def stored_files(storage, folder: str = "exports") -> list[str]:
    """Every file under ``folder`` of ``storage``, walking its sub-folders (local folder or bucket alike)."""
    found = []
    try:
        dirs, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    found += [f"{folder}/{name}" for name in files]
    for sub in dirs:
        found += stored_files(storage, f"{folder}/{sub}")
    return sorted(found)
