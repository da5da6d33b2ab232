"""The batch export of a street's or a district's grid signs: one PDF, one A4 page per grid."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.core.errors import InvalidInput, NotFoundError
from governance.core.scoping import Action, get_scope
from governance.exports.kinds import ExportKind, ExportRun, register
from grids.models import Region
from intake import signs


@register
class GridSignsExport(ExportKind):
    name = "grid_signs"
    label = gettext_lazy("Grid signs")
    formats = ("pdf",)
    sync_limit = 30  # more pages than that are drawn by a worker

    def allowed(self, user) -> bool:
        scope = get_scope(user)
        return not (scope.is_empty(Action.TRIAGE) and scope.is_empty(Action.ADMINISTER))

    def clean(self, user, data):
        raw = (data.get("region") or "").strip()
        region = None
        if raw.isdigit():
            region = Region.objects.restrict(user, Action.VIEW).defer("boundary").filter(pk=int(raw)).first()
            if region is None:  # hidden is missing: a region outside the user's territory is not named back
                raise NotFoundError(_("Unknown region."))
        if region is None:
            raise InvalidInput(_("Choose a region of your territory."), code="invalid_filters",
                               field_errors={"region": [_("Unknown region.")]})
        return {"region": [str(region.pk)]}, {"base_url": signs.base_url(data.get("base_url", ""))}

    def _region(self, user, params) -> Region:
        region = (Region.objects.restrict(user, Action.VIEW).defer("boundary")
                  .filter(pk=int(params.get("region") or 0)).first())
        if region is None:  # the region left the owner's scope since: refused, never ignored
            raise InvalidInput(_("Choose a region of your territory."), code="invalid_filters")
        return region

    def count(self, user, params, options) -> int | None:
        return signs.grids_for_signs(user, self._region(user, params)).count()

    def write(self, run: ExportRun) -> None:
        from intake.pdf import write_signs

        region = self._region(run.user, run.params)
        run.progress.start(signs.grids_for_signs(run.user, region).count())
        write_signs(run.out, signs.sheets(run.user, region, run.options.get("base_url", "")),
                    progress=lambda _n: run.progress.advance(1))

