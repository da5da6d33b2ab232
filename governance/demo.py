"""The governance app's demo steps live in its sub-packages; ``seed_demo`` discovers them through this module."""

from governance.access import demo as access_demo  # noqa: F401
from governance.alerts import demo as alerts_demo  # noqa: F401
