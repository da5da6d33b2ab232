"""The dashboards app's demo steps live in its map package; ``seed_demo`` discovers them through this module."""

from dashboards.map import demo as map_demo  # noqa: F401
