"""The resident's pages behind a grid's QR code: no login, one form, a tracking code, a tracking page.

Abuse control, in this order: the sign's token (a forged, altered or revoked one is a 404), the
rate limits per client and per grid (429), the honeypot (400, nothing filed), the form, the
photo's size; a filing that fails leaves nothing behind (``quick_report_file`` is one transaction,
and stored photos are deleted again on rollback).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from governance.core.errors import DomainError
from intake import ratelimit, selectors, services, tokens
from intake.forms import QuickReportForm, TrackForm

log = logging.getLogger(__name__)


def _sign_or_404(token: str):
    sign = services.sign_from_token(token)
    if sign is None:
        raise Http404
    return sign


@require_http_methods(["GET", "POST"])
def quick_report(request, token: str):
    if request.method == "GET":
        sign = _sign_or_404(token)
        return render(request, "intake/quick_report.html",
                      {"grid": sign.grid, "token": token, "form": QuickReportForm()})
    client = ratelimit.client_address(request)
    try:
        # The client's limit first, before any query: a flood from one client is refused cheaply (and
        # floods of made-up tokens count too); then the sign, then its grid's limit.
        ratelimit.check((f"client:{tokens.client_fingerprint(client)}", settings.INTAKE_RATE_PER_CLIENT))
        sign = _sign_or_404(token)
        ratelimit.check((f"grid:{sign.grid_id}", settings.INTAKE_RATE_PER_GRID))
    except ratelimit.RateLimited as exc:
        # A short page: the resident's draft stays on the phone.
        return render(request, "intake/refused.html", {"token": token, "error": exc.message}, status=429)
    context = {"grid": sign.grid, "token": token}
    if request.POST.get("website"):
        log.info("quick report honeypot filled, grid %s", sign.grid.code)
        return render(request, "intake/refused.html",
                      {**context, "error": _("Your report could not be accepted. Please try again.")}, status=400)
    form = QuickReportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "intake/quick_report.html", {**context, "form": form}, status=400)
    data = form.cleaned_data
    photos = [data["photo"]] if data.get("photo") else []
    try:
        submission = services.quick_report_file(
            sign=sign, category=data["category"], description=data["description"], photos=photos,
            lat=data.get("lat"), lng=data.get("lng"), phone=data.get("phone") or "",
            client=tokens.client_fingerprint(client))
    except DomainError as exc:
        for field, errors in exc.field_errors.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
        return render(request, "intake/quick_report.html", {**context, "form": form, "error": exc.message},
                      status=exc.status_code)
    return redirect(reverse("intake:track-code", args=[submission.tracking_code]) + "?new=1")


@require_http_methods(["GET"])
def track(request, code: str | None = None):
    if code is None and "code" in request.GET:
        form = TrackForm(request.GET)
        if form.is_valid():
            return redirect("intake:track-code", tokens.normalise_tracking_code(form.cleaned_data["code"]))
        return render(request, "intake/track.html", {"form": form}, status=400)
    if code is None:
        return render(request, "intake/track.html", {"form": TrackForm()})
    try:
        ratelimit.check((f"track:{tokens.client_fingerprint(ratelimit.client_address(request))}",
                         settings.INTAKE_RATE_TRACKING))
    except ratelimit.RateLimited as exc:
        return render(request, "intake/track.html", {"form": TrackForm(), "error": exc.message}, status=429)
    found = selectors.tracked(code)
    if found is None:
        return render(request, "intake/track.html",
                      {"form": TrackForm(initial={"code": code}),
                       "error": _("No report has this tracking code. Check the code and try again.")}, status=404)
    return render(request, "intake/track.html",
                  {"form": TrackForm(), "found": found, "new": request.GET.get("new") == "1"})
