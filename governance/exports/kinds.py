"""Export kinds: what an app can export, registered by name (how to add one: ``governance.exports``).

``ExportKind`` is the whole contract between an app and the job kernel:

* ``allowed(user)``: may this user ask for this export at all (403 otherwise)? Asked when the
  job is asked for and again when it runs.
* ``clean(user, data)``: the request's fields (the page's filters and the kind's options) to
  what the job stores, ``(params, options)``; raises ``InvalidInput`` saying what is wrong.
* ``count(user, params, options)``: the rows the file will hold, or ``None`` if unknown. Up to
  ``sync_limit`` rows the file is written while the user waits; more, or unknown, go to a worker.
* ``write(run)``: write the file into ``run.out`` in ``run.fmt``, counting progress on ``run.progress``.

``TableExport`` implements all four for a list a page shows: the page's scoped queryset
(``base_queryset``) filtered by the page's FilterSet (``filterset_class``), one row per object,
the columns the user picked among ``columns``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.core import spreadsheets
from governance.core.errors import InvalidInput

if TYPE_CHECKING:
    from django_filters import FilterSet

    from governance.exports.progress import Progress

# Every format a kind may offer: its media type and the name a button shows.
FORMATS: dict[str, tuple[str, Any]] = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _("Excel (xlsx)")),
    "csv": ("text/csv; charset=utf-8", "CSV"),
    "pdf": ("application/pdf", "PDF"),
}


@dataclass
class ExportRun:
    """What a kind's ``write`` gets: the owner as of now, the job's filters and options, where to write."""

    job_id: int
    user: Any
    params: QueryDict
    options: dict
    fmt: str
    out: IO[bytes]
    progress: Progress


class ExportKind(abc.ABC):
    """One thing that can be exported. Subclass, set ``name`` and ``label``, implement ``clean`` and ``write``."""

    name: ClassVar[str] = ""  # stored on every job: never rename a kind
    label: ClassVar[Any] = ""  # lazily translated: the progress page, the sheet's title, the file's name
    formats: ClassVar[Sequence[str]] = ("xlsx", "csv")
    sync_limit: ClassVar[int] = 2000  # up to this many rows the file is written while the user waits

    def allowed(self, user) -> bool:
        return True

    @abc.abstractmethod
    def clean(self, user, data: QueryDict) -> tuple[dict[str, list[str]], dict]:
        """The job's filters and options from a request's data, or a ValidationError."""

    def count(self, user, params: QueryDict, options: dict) -> int | None:
        return None

    @abc.abstractmethod
    def write(self, run: ExportRun) -> None:
        """Write the file to ``run.out``, reporting progress on ``run.progress``."""

    def file_name(self, fmt: str, when: datetime | None = None) -> str:
        """The name the download carries, in the current language: ``事件-20261202-1430.xlsx``."""
        when = timezone.localtime(when or timezone.now(), timezone.get_default_timezone())
        stem = "".join("-" if ch in '/\\:*?"<>|' else ch for ch in str(self.label)).strip() or self.name
        return f"{stem}-{when:%Y%m%d-%H%M}.{fmt}"


@dataclass(frozen=True)
class Column:
    """A column of a table export.

    ``value`` turns one object into one cell: text, a number, an aware ``datetime`` or a ``date``
    (date cells in xlsx), or ``None`` (an empty cell). ``personal`` marks personal data: the
    column picker says so, and the kind's ``value`` must mask it for those who may not see it.
    ``width`` is the xlsx column's width in characters (default: its header's).
    """

    key: str
    label: Any
    value: Callable[[Any], object]
    personal: bool = False
    width: int | None = None


@dataclass(frozen=True)
class ColumnChoice:
    """A column as the picker offers it."""

    key: str
    label: Any
    checked: bool
    personal: bool


class TableExport(ExportKind):
    """A list a page shows, exported as it is shown: the page's queryset, the page's FilterSet."""

    columns: ClassVar[Sequence[Column]] = ()
    default_columns: ClassVar[Sequence[str]] = ()
    filterset_class: ClassVar[type[FilterSet] | None] = None
    chunk_size: ClassVar[int] = 2000
    # A PDF is printed and read, not searched: it stops here and says so; xlsx and CSV hold the whole list.
    pdf_row_limit: ClassVar[int] = 20_000

    # --- what a kind provides --------------------------------------------------------------------

    @abc.abstractmethod
    def base_queryset(self, user) -> QuerySet:
        """The list the page shows this user, through the scoping door, before any filter."""

    def filterset_kwargs(self, user) -> dict:
        """Extra arguments of the FilterSet (e.g. the user, when its choices depend on the scope)."""
        return {}

    def prepare(self, user, queryset: QuerySet, columns: Sequence[Column]) -> QuerySet:
        """Annotate what the chosen columns need (one query for all rows, not one per row)."""
        return queryset

    # --- the contract, for a table ---------------------------------------------------------------

    def column_map(self) -> dict[str, Column]:
        return {c.key: c for c in self.columns}

    def chosen_columns(self, keys: Iterable[str]) -> list[str]:
        """The known columns among ``keys``, in the order given; the defaults when none is known."""
        known = self.column_map()
        picked = [k for k in dict.fromkeys(keys) if k in known]
        return picked or list(self.default_columns)

    def column_choices(self) -> list[ColumnChoice]:
        defaults = set(self.default_columns)
        return [ColumnChoice(c.key, c.label, c.key in defaults, c.personal) for c in self.columns]

    def filter_names(self) -> set[str]:
        return set(self.filterset_class.base_filters) if self.filterset_class else set()

    def is_filter(self, key: str) -> bool:
        """A query key the FilterSet reads: a filter's name, or a range filter's suffixed half (``x_min``)."""
        names = self.filter_names()
        return key in names or key.rsplit("_", 1)[0] in names

    def filtered(self, user, params: QueryDict) -> QuerySet:
        """The page's list for ``user`` filtered by ``params``, or ``InvalidInput`` naming the filters at fault."""
        queryset = self.base_queryset(user)
        if self.filterset_class is None:
            return queryset
        filterset = self.filterset_class(params, queryset=queryset, **self.filterset_kwargs(user))
        if not filterset.is_valid():
            problems = {name: [str(e) for e in errors] for name, errors in filterset.errors.items()}
            raise InvalidInput(
                gettext("The filters are not valid: %(errors)s")
                % {"errors": "; ".join(f"{name}: {' '.join(errors)}" for name, errors in problems.items())},
                code="invalid_filters", field_errors=problems)
        return filterset.qs

    def clean(self, user, data: QueryDict) -> tuple[dict[str, list[str]], dict]:
        params = {key: data.getlist(key) for key in data if self.is_filter(key)}
        self.filtered(user, as_query(params))  # refused now, while the user is on the page, not in the worker
        return params, {"columns": self.chosen_columns(data.getlist("columns"))}

    def count(self, user, params: QueryDict, options: dict) -> int | None:
        return self.filtered(user, params).count()

    def write(self, run: ExportRun) -> None:
        known = self.column_map()
        columns = [known[key] for key in self.chosen_columns(run.options.get("columns", []))]
        objects = self.prepare(run.user, self.filtered(run.user, run.params), columns)
        run.progress.start(objects.count())
        rows = self.rows(run.progress.track(objects.iterator(chunk_size=self.chunk_size)), columns)
        header = [str(c.label) for c in columns]
        if run.fmt == "csv":
            spreadsheets.write_csv_bytes(run.out, rows, header)
        elif run.fmt == "xlsx":
            spreadsheets.write_xlsx(run.out, rows, header, title=str(self.label), widths=[c.width for c in columns])
        else:
            raise ImproperlyConfigured(f"{type(self).__name__} offers {run.fmt!r} but writes only xlsx and csv")

    def pdf_cut_note(self, shown: int, total: int) -> str:
        """The last line of a PDF cut at ``pdf_row_limit``: how much is missing, and where the whole list is."""
        return gettext("This PDF lists the first %(shown)s of %(total)s rows. Export as Excel (xlsx) or CSV for "
                       "the whole list, or narrow the filters.") % {"shown": f"{shown:,}", "total": f"{total:,}"}

    @staticmethod
    def rows(objects: Iterable, columns: Sequence[Column]) -> Iterator[list]:
        getters = [c.value for c in columns]
        for obj in objects:
            yield [getter(obj) for getter in getters]


def as_query(params: dict[str, list[str]]) -> QueryDict:
    """A job's stored filters as the query dict a FilterSet reads."""
    query = QueryDict(mutable=True)
    for key, values in params.items():
        query.setlist(key, list(values))
    return query


# --- The registry ------------------------------------------------------------------------------

# name -> the kind; filled when Django starts (``ExportsConfig.ready`` imports every app's ``exports`` module)
KINDS: dict[str, ExportKind] = {}


def register(cls: type[ExportKind]) -> type[ExportKind]:
    """Class decorator: make ``cls`` an export kind, under its ``name``."""
    if not cls.name or not cls.label:
        raise ImproperlyConfigured(f"export kind {cls.__qualname__} needs a name and a label")
    unknown = set(cls.formats) - set(FORMATS)
    if unknown:
        raise ImproperlyConfigured(f"export kind {cls.name!r} offers unknown formats: {sorted(unknown)}")
    held = KINDS.get(cls.name)
    if held is not None and (type(held).__module__, type(held).__qualname__) != (cls.__module__, cls.__qualname__):
        raise ImproperlyConfigured(f"two export kinds are named {cls.name!r}: {type(held).__qualname__} and "
                                   f"{cls.__qualname__}")
    KINDS[cls.name] = cls()
    return cls


def get_kind(name: str) -> ExportKind:
    """The kind registered under ``name``; ``LookupError`` when there is none."""
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"no export kind is named {name!r}") from None
