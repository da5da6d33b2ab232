"""Fixtures of the other apps that the kernel's tests use: the categories and the small incident world."""

from tests.dashboards.conftest import world  # noqa: F401
from tests.incidents.conftest import categories, file_incident, fire_exit, noise, road  # noqa: F401
