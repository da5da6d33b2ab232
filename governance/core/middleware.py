"""Middleware of the portal."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


def no_store(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """``Cache-Control: no-store`` on every answer of the portal's views that sets no caching of its own.

    Pages and API answers carry residents' names and phones, dispute parties' ID numbers and
    the state of incidents: neither the browser's disk cache nor a proxy may keep them. A view
    that knows better says so itself (a scoped photo is ``private, max-age=3600``); static
    files are served by WhiteNoise before this runs, with their own long-lived headers.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True)
        return response

    return middleware
