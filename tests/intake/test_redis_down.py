"""With Redis down, residents still report: the rate limits are not enforced rather than answering 500."""

import pytest

from governance.core import cache as resilient_cache
from incidents.models import Incident
from tests.servers import REDIS_SERVER, RedisProcess

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(REDIS_SERVER is None, reason="needs Debian's redis-server (installed by .ci/run)")]


@pytest.fixture
def redis(tmp_path, settings):
    server = RedisProcess(tmp_path)
    settings.CACHES = {"default": {"BACKEND": "governance.core.cache.ResilientRedisCache", "LOCATION": server.url,
                                   "OPTIONS": settings.REDIS_CACHE_OPTIONS}}
    resilient_cache.reset_pauses()
    yield server
    server.stop()
    resilient_cache.reset_pauses()


def test_limits_hold_on_redis_and_give_way_when_it_is_down(client, redis, token, noise, settings):
    settings.INTAKE_RATE_PER_CLIENT = "2/86400"  # a day: a burst never straddles two windows
    url = f"/q/{token}/"
    answers = [client.post(url, {"category": noise.pk, "description": f"第{i}次"}).status_code for i in range(3)]
    assert answers == [302, 302, 429]  # counted in the real Redis
    redis.stop()
    resilient_cache.reset_pauses()
    answers = [client.post(url, {"category": noise.pk, "description": f"断线{i}"}).status_code for i in range(2)]
    assert answers == [302, 302]
    assert Incident.objects.count() == 4
