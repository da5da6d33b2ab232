"""Project-level views: the health probe and the error pages (the portal's own, and JSON under /api/)."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

from governance.core.api import api_error_response, error_body, is_api_request


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# --- Error pages: the portal's own, and the API's one JSON shape under /api/ ------------------------------

def _api_or_page(status: int, page_view):
    """The project's handler for ``status``: the one JSON shape under /api/, Django's page (the portal's
    template) elsewhere."""

    @requires_csrf_token
    def handler(request, exception=None):
        if is_api_request(request):
            return api_error_response(request, status, exception)
        return page_view(request, exception) if status != 500 else page_view(request)

    handler.__name__ = page_view.__name__
    return handler


bad_request = _api_or_page(400, defaults.bad_request)
permission_denied = _api_or_page(403, defaults.permission_denied)
page_not_found = _api_or_page(404, defaults.page_not_found)
server_error = _api_or_page(500, defaults.server_error)


def csrf_failure(request, reason=""):
    """A form sent without its CSRF token (an expired page, another site): the portal's page, not Django's."""
    if is_api_request(request):
        response = JsonResponse(error_body("csrf_failed", _(
            "The request came without the security token of a portal page. Reload the page and try again; "
            "API clients send a token (Authorization: Token ...).")), status=403,
            json_dumps_params={"ensure_ascii": False})
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "403_csrf.html", status=403)
