"""The map's seeding step: fill the tallies once the demo incidents are in (``seed_demo``).

The registry's autodiscovery imports ``dashboards.demo``, which imports this module.
"""

from __future__ import annotations

from governance.core.demo import DemoContext, demo_step


@demo_step(order=900, name="map_tallies")
def map_tallies(ctx: DemoContext) -> None:
    """Rebuild the map's per-grid tallies from every incident (the demo's incidents come in bulk, with no signal)."""
    from dashboards.map.stats import refresh_tallies

    result = refresh_tallies(full_days=True)
    ctx.log(f"Map tallies: {result.category_rows} grid × category rows, {result.day_rows} grid × day rows "
            f"in {result.seconds:.1f} s.")
