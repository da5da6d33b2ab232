from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from governance import selectors
from governance.models import Role
from governance.scoping import Action, get_scope

DASHBOARD_OF_ROLE = {
    Role.ADMINISTRATOR: "dashboards:administrator",
    Role.COMMAND_STAFF: "dashboards:command",
    Role.SUPERVISOR: "dashboards:supervisor",
    Role.UNIT_HANDLER: "dashboards:unit",
    Role.MEDIATOR: "dashboards:mediator",
    Role.GRID_WORKER: "dashboards:grid-worker",
}


@login_required
def home(request):
    """Send each user to the dashboard of their main role."""
    role = selectors.primary_role(request.user)
    if role is None:
        return render(request, "governance/no_role.html", status=200)
    return redirect(DASHBOARD_OF_ROLE[role])


@login_required
def audit_log(request):
    """Who changed what, for administrators, within what they administer."""
    if get_scope(request.user).is_empty(Action.ADMINISTER):
        raise PermissionDenied
    return render(request, "governance/audit_log.html", {"entries": selectors.audit_entries(request.user)})


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
