"""The alert feed: what the user's territory needs to look at, and an acknowledge button."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from governance.alerts import selectors, services
from governance.errors import NotFoundError

PAGE_SIZE = 50


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
    return render(request, "alerts/detail.html", {"alert": alert})


@login_required
@require_POST
def acknowledge(request, pk: int):
    try:
        alert = services.alert_acknowledge(alert=pk, actor=request.user)
    except NotFoundError as exc:
        raise Http404 from exc
    messages.success(request, _("Alert acknowledged: %(alert)s") % {"alert": alert})
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                                    require_https=request.is_secure()):
        return redirect(next_url)
    return redirect("alerts:feed")
