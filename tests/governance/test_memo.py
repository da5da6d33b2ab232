"""Per-process copies of small tables, kept while the shared token stands (governance.core.memo)."""

import threading

import pytest
from django.core.cache import cache
from django.db import transaction

from governance.core import memo as memo_module
from governance.core.memo import SharedMemo
from incidents import categories as category_memo
from incidents.models import Category
from tests.factories import commit_memo_changes
from tests.incidents.conftest import categories  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def loads():
    calls = []
    memo = SharedMemo("test:numbers", lambda: calls.append(1) or len(calls))
    yield memo, calls
    memo_module._memos.remove(memo)


def test_a_kept_copy_is_answered_without_loading(loads):
    memo, calls = loads
    assert memo.get() == 1
    assert memo.get() == 1
    assert len(calls) == 1


def test_a_token_replaced_by_another_process_loads_again(loads):
    memo, calls = loads
    memo.get()
    cache.set(memo.key, "another-process-committed", timeout=None)
    assert memo.get() == 2
    assert memo.get() == 2


def test_a_change_of_this_process_loads_until_its_commit_then_keeps_again(loads, django_capture_on_commit_callbacks):
    memo, calls = loads
    memo.get()
    token = cache.get(memo.key)
    with django_capture_on_commit_callbacks(execute=True):
        memo.changed()
        assert memo.get() == 2 and memo.get() == 3  # its own change, uncommitted: nothing kept
    assert cache.get(memo.key) != token  # committed: every process loads again
    assert memo.get() == 4
    assert memo.get() == 4


def test_a_rolled_back_change_leaves_the_process_on_its_kept_copy(loads):
    memo, calls = loads
    assert memo.get() == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        memo.changed()
        assert memo.pending()
        assert memo.get() == 2  # its own change, uncommitted: loaded, not kept
        raise RuntimeError("rolled back")
    assert not memo.pending()
    assert [memo.get(), memo.get(), memo.get()] == [1, 1, 1]  # nothing was announced, nothing is loaded
    assert len(calls) == 2


def test_a_change_rolled_back_to_a_savepoint_is_no_longer_pending(loads):
    memo, calls = loads
    memo.get()
    with transaction.atomic():
        try:
            with transaction.atomic():
                memo.changed()
                raise RuntimeError("the savepoint rolls back")
        except RuntimeError:
            pass
        assert not memo.pending()
        assert memo.get() == 1
    assert len(calls) == 1


def test_a_change_pending_in_one_thread_leaves_other_threads_on_the_kept_copy(loads):
    memo, calls = loads
    memo.get()
    seen_by_other_thread = []
    with transaction.atomic():
        memo.changed()
        assert memo.get() == 2  # this transaction sees its own change
        other = threading.Thread(target=lambda: seen_by_other_thread.append((memo.pending(), memo.get())))
        other.start()
        other.join()
    assert seen_by_other_thread == [(False, 1)]  # its own connection has nothing pending


def test_nothing_is_kept_while_the_cache_cannot_be_read(loads, monkeypatch):
    class DownCache:
        def get(self, *args, **kwargs):
            raise ConnectionError("cache server down")

    memo, calls = loads
    monkeypatch.setattr(memo_module, "cache", DownCache())
    assert [memo.get(), memo.get()] == [1, 2]


def test_a_category_saved_in_the_admin_is_read_again_by_the_api(
        categories, django_capture_on_commit_callbacks, django_assert_num_queries):  # noqa: F811
    road = Category.objects.get(name="道路破损")
    commit_memo_changes()  # as if the fixture's categories had been committed (a test never commits)
    assert category_memo.category_by_code(road.code).name == "道路破损"
    with django_assert_num_queries(0):
        kept = category_memo.category_by_code(road.code)
    assert kept.parent.name == road.parent.name
    kept.name = "changed by a caller"
    assert category_memo.category_by_id(road.pk).name == "道路破损"  # copies: the kept tree is untouched
    with django_capture_on_commit_callbacks(execute=True):
        road.name = "道路破损（含人行道）"
        road.save()
    assert category_memo.category_by_code(road.code).name == "道路破损（含人行道）"
