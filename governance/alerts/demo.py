"""The demo's alerts: one sweep right after seeding."""

from __future__ import annotations

from governance.core.demo import DemoContext, demo_step


@demo_step(order=800)
def alerts(ctx: DemoContext) -> None:
    """Run the deadline sweep once, so the demo's overdue incidents show their alerts at once
    instead of after beat's first minute. The sweep is idempotent: a second run raises nothing."""
    from governance.alerts.sweep import run_sweep

    result = run_sweep()
    ctx.log(f"Alert sweep: {sum(result.counts.values())} changes ({result.counts}).")
