"""The alert feed: what the user's territory needs to look at, an acknowledge button for its
addressee, and "mark as read" for everyone who sees it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from governance.alerts import selectors, services
from governance.core.errors import NotFoundError, PermissionDeniedError

PAGE_SIZE = 50


def _back(request, fallback: str = "alerts:feed"):
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                                    require_https=request.is_secure()):
        return redirect(next_url)
    return redirect(fallback)


@login_required
@require_GET
def feed(request):
    open_only = request.GET.get("state") == "open"
    page = Paginator(selectors.alert_feed(request.user, open_only=open_only), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "alerts/feed.html", {"page": page, "alerts": page.object_list, "open_only": open_only})


@login_required
@require_GET
def detail(request, pk: int):
    alert = selectors.alert_get(request.user, pk)
    if alert is None:
        raise Http404
    if not alert.read_by_me:  # opening an alert reads it, for this user alone
        services.alert_mark_read(alerts=[alert.pk], actor=request.user)
        alert.read_by_me = True
    return render(request, "alerts/detail.html", {
        "alert": alert, "others": selectors.other_alerts_of_subject(request.user, alert),
    })


@login_required
@require_POST
def acknowledge(request, pk: int):
    try:
        alert = services.alert_acknowledge(alert=pk, actor=request.user)
    except NotFoundError as exc:
        raise Http404 from exc
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    messages.success(request, _("Alert acknowledged: %(alert)s") % {"alert": alert})
    return _back(request)


@login_required
@require_POST
def mark_read(request):
    """Mark the alerts listed on the page read, for this user (their own badge; nothing else changes)."""
    ids = [int(v) for v in request.POST.getlist("alert") if v.isdigit()][:PAGE_SIZE]
    count = services.alert_mark_read(alerts=ids, actor=request.user)
    messages.success(request, _("%(n)d alerts marked as read.") % {"n": count})
    return _back(request)
