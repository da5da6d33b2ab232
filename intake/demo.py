"""``seed_demo`` step 650: a sign in force on every grid, and an Open311 key for the city's hotline.

The demo key is fixed (``DEMO_API_KEY``, in docs/demo.md) so that a client can be tried at once;
like every key it is stored hashed. Idempotent: grids that have a sign keep it, the key is made once.
"""

from __future__ import annotations

from django.utils import timezone

from governance.core.demo import BATCH_SIZE, DemoContext, demo_step
from grids.models import Region
from incidents.models import Source
from intake import tokens
from intake.models import ApiKey, Sign

DEMO_API_KEY = "o311_demo0000_city-hotline-demo-key"


@demo_step(order=650)
def signs_and_keys(ctx: DemoContext) -> None:
    """A quick-report sign on every grid; the hotline's Open311 key."""
    now = timezone.now()
    grids = Region.objects.grids().filter(path__startswith=ctx.city.path).exclude(
        pk__in=Sign.objects.filter(revoked_at__isnull=True).values("grid_id")).values_list("pk", flat=True)
    made = Sign.objects.bulk_create([Sign(grid_id=pk, nonce=tokens.new_nonce(), issued_at=now) for pk in grids],
                                    batch_size=BATCH_SIZE)
    ctx.log(f"Intake: {len(made)} grid signs issued.")
    digest = tokens.hash_api_key(DEMO_API_KEY)
    if not ApiKey.objects.filter(key_hash=digest).exists():
        unit = next((u for code, u in sorted(ctx.units.items()) if code.startswith(ctx.city.code)), None) \
            or next(iter(ctx.units.values()))
        ApiKey.objects.create(name="12345 市民服务热线（演示）", unit=unit, territory=ctx.city, source=Source.HOTLINE,
                              prefix="demo0000", key_hash=digest, created_at=now)
        ctx.log(f"Intake: Open311 key of the demo hotline: {DEMO_API_KEY}")
    sign = Sign.objects.filter(revoked_at__isnull=True, grid__path__startswith=ctx.city.path).order_by(
        "grid__path").select_related("grid").first()
    if sign is not None:
        ctx.log(f"Intake: the QR page of {sign.grid.name}: /q/{tokens.sign_token(sign.pk, sign.nonce)}/")
