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

@requires_csrf_token
def bad_request(request, exception):
    if is_api_request(request):
        return api_error_response(request, 400, exception)
    return defaults.bad_request(request, exception)


@requires_csrf_token
def permission_denied(request, exception):
    if is_api_request(request):
        return api_error_response(request, 403, exception)
    return defaults.permission_denied(request, exception)


@requires_csrf_token
def page_not_found(request, exception):
    if is_api_request(request):
        return api_error_response(request, 404, exception)
    return defaults.page_not_found(request, exception)


@requires_csrf_token
def server_error(request):
    if is_api_request(request):
        return api_error_response(request, 500)
    return defaults.server_error(request)


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
