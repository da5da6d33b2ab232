"""Background jobs for any export: one job model, one progress page, one status API, for every app.

An app says what can be exported; this kernel does the rest: it checks who may ask, records the
job (who, what, which filters, which format), writes small files while the user waits and large
ones on a Celery worker with progress on the job's row, stores the file in the configured storage
(``STORAGES["default"]``: the local folder or an S3-compatible object store), serves it only to
its owner through a view, and deletes it when it expires.

Adding an export kind
=====================

Put an ``exports.py`` module in your app (the kernel imports every app's ``exports`` module when
Django starts) and register a kind. A list that a page shows is a ``TableExport``; it exports
exactly what the page shows because it starts from the page's own scoped queryset and filters it
with the page's own FilterSet::

    # mediation/exports.py
    from django.utils.translation import gettext_lazy as _

    from governance.exports.kinds import Column, TableExport, register
    from mediation import selectors
    from mediation.filters import CaseFilter

    @register
    class CaseListExport(TableExport):
        name = "mediation_cases"            # stored on every job: never rename it
        label = _("Dispute cases")          # the progress page, the sheet's title, the file's name
        filterset_class = CaseFilter        # the list page's FilterSet
        columns = [
            Column("number", _("Number"), lambda case: case.number, width=20),
            Column("opened_at", _("Opened at"), lambda case: case.opened_at),  # a datetime: a date cell
            Column("party_phone", _("Party's phone"), lambda case: case.masked_phone, personal=True),
        ]
        default_columns = ["number", "opened_at"]

        def allowed(self, user) -> bool:    # may this user ask at all? (403 otherwise)
            return not get_scope(user).is_empty(Action.MEDIATE)

        def base_queryset(self, user):      # the page's list, through the scoping door
            return selectors.case_list(user)

Then offer it on the page: one line in the view and one include in the template::

    from governance.exports.views import export_controls
    ...  context["export"] = export_controls(request, "mediation_cases")

    {% include "exports/_controls.html" %}

The controls post the page's current filters; the user picks columns and a format (xlsx, CSV),
and gets the file at once or the progress page (``/exports/<id>/``). Cells are typed: a
``datetime`` becomes a date cell in Asia/Shanghai (``yyyy-mm-dd hh:mm``), a ``date`` a date cell,
numbers stay numbers, text is cleaned and never read as a formula
(``governance.core.spreadsheets``). Column values run in the owner's language.

A report that is not one table (a PDF, several sheets) subclasses ``ExportKind`` and writes the
file itself in ``write(run)``: ``run.user`` is the owner as of now, ``run.params`` the cleaned
filters, ``run.out`` the binary file to write, ``run.progress`` counts rows onto the job
(``run.progress.start(total)``, then ``run.progress.track(rows)``). ``formats`` names the
formats it writes (``xlsx``, ``csv``, ``pdf``). See ``governance.exports.kinds``.

What the kernel guarantees
==========================

* **Scope at run time.** A job runs as its owner's scope when it runs, not when it was asked:
  the kind's queryset is built for the owner read afresh, so a role revoked meanwhile is not
  exported, and ``allowed`` is asked again.
* **Only the owner sees a job.** ``ExportJob.objects.restrict(user)`` holds the owner's jobs
  (superusers' included: a job is a person's, not a territory's); anyone else gets 404 on its
  page, its file and its status, anonymous visitors the login page or 401.
* **Files never leave through a URL of the storage.** Downloads stream through
  ``governance.exports.views.download``; no public or pre-signed URL is handed out.
* **Nothing runs twice at once, nothing stays half done.** A run claims its job (``attempts``);
  a superseded run stops at its next progress report and deletes what it wrote. A job that
  stops moving (a worker killed for good, a task lost) is marked failed by the expiry task.
  Files expire after ``EXPORT_RETENTION_HOURS``; the job row stays as the record of who
  exported what, and when.
"""
