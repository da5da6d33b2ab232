"""The territory tree: city > district > street > community > grid."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from governance.core.scoping import RestrictedQuerySetMixin


class Level(models.IntegerChoices):
    """The administrative levels; the value is the depth in the tree."""

    CITY = 1, _("City")
    DISTRICT = 2, _("District")
    STREET = 3, _("Street")
    COMMUNITY = 4, _("Community")
    GRID = 5, _("Grid")

    @property
    def child(self) -> "Level | None":
        return Level(self + 1) if self < Level.GRID else None

    @property
    def parent(self) -> "Level | None":
        return Level(self - 1) if self > Level.CITY else None


class RegionQuerySet(RestrictedQuerySetMixin, MP_NodeQuerySet):
    def grids(self):
        return self.filter(level=Level.GRID)


class RegionManager(MP_NodeManager):
    def get_queryset(self):
        return RegionQuerySet(self.model, using=self._db).order_by("path")

    def restrict(self, user, action: str = "view"):
        return self.get_queryset().restrict(user, action)

    def grids(self):
        return self.get_queryset().grids()


class Region(MP_Node):
    """A node of the territory tree.

    The boundary is a GeoJSON Polygon or MultiPolygon (lng/lat, WGS-84), kept in
    a JSON field so that the portal needs no GDAL; shapely does the geometry.
    Centroid and bounding box are derived from it on every save by the services.
    """

    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices, db_index=True)
    code = models.CharField(_("administrative code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    boundary = models.JSONField(_("boundary (GeoJSON)"))
    centroid_lat = models.FloatField(_("centroid latitude"))
    centroid_lng = models.FloatField(_("centroid longitude"))
    min_lat = models.FloatField(editable=False)
    min_lng = models.FloatField(editable=False)
    max_lat = models.FloatField(editable=False)
    max_lng = models.FloatField(editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    history = HistoricalRecords(excluded_fields=["path", "depth", "numchild"])

    objects = RegionManager()

    # The scoping door (governance.core.scoping): a region is in scope when it lies
    # in the subtree of a region the user holds the action over.
    scope_region_path = "path"

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        permissions = [
            ("scope_view", _("See everything in the region's subtree")),
            ("scope_report", _("File incidents in the region's subtree")),
            ("scope_triage", _("Triage and dispatch in the region's subtree")),
            ("scope_mediate", _("Mediate disputes in the region's subtree")),
            ("scope_administer", _("Administer the region's subtree")),
            ("scope_supervise", _("Supervise pilot tasks in the region's subtree")),
        ]
        indexes = [
            # Prefix searches (path LIKE 'ABC%') on PostgreSQL need pattern ops.
            models.Index(fields=["path"], name="region_path_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["level", "path"], name="region_level_path"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def level_label(self) -> str:
        return Level(self.level).label

    def ancestor_paths(self) -> list[str]:
        """Paths of every ancestor, root first (computed, no query)."""
        step = self.steplen
        return [self.path[: i * step] for i in range(1, self.depth)]


def parent_path(path: str) -> str:
    """The tree path of a region's parent (treebeard's materialized path: one step shorter)."""
    return path[: -Region.steplen]


def parent_path_sql(path_sql: str) -> str:
    """``parent_path`` as an SQL expression over a path column (SQLite and PostgreSQL alike)."""
    return f"substr({path_sql}, 1, length({path_sql}) - {Region.steplen})"
