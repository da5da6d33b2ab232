"""The category tree, kept per process (``governance.core.memo``): every filing looks its category up.

A saved or deleted category replaces the shared token when its transaction
commits, so every process reads the tree again on its next lookup.
"""

from __future__ import annotations

import copy

from django.db.models.signals import post_delete, post_save

from governance.core.memo import SharedMemo
from incidents.models import Category


def _load() -> tuple[dict[int, Category], dict[str, Category]]:
    categories = list(Category.objects.select_related("parent"))
    return {c.pk: c for c in categories}, {c.code: c for c in categories}


TREE: SharedMemo[tuple[dict[int, Category], dict[str, Category]]] = SharedMemo("incidents:categories", _load,
                                                                               max_age=300)


def category_by_id(pk: int) -> Category | None:
    """A copy (with its parent), so a caller may keep it on an incident without touching the kept tree."""
    found = TREE.get()[0].get(pk)
    return copy.copy(found) if found is not None else None


def category_by_code(code: str) -> Category | None:
    found = TREE.get()[1].get(code)
    return copy.copy(found) if found is not None else None


def major_categories() -> dict[int, int]:
    """{category id: its major category's id} (a major category maps to itself)."""
    return {pk: category.parent_id or pk for pk, category in TREE.get()[0].items()}


def _changed(sender, **kwargs) -> None:
    TREE.changed()


post_save.connect(_changed, sender=Category, dispatch_uid="incidents.categories.saved")
post_delete.connect(_changed, sender=Category, dispatch_uid="incidents.categories.deleted")
