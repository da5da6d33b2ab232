"""The top bar's links: one bar on every page type, the same for a user wherever they are.

Each app registers the links it owns when Django starts (``register_nav_link`` from its
``apps.py``), with who sees each: a user whose scope allows an action, or who holds one
of some roles. The kernel names no app above it; the template (``base.html``) only loops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise, SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from governance.access import selectors
from governance.core.scoping import Action, get_scope


@dataclass(frozen=True)
class NavLink:
    key: str
    label: str | Promise
    url_name: str
    order: int
    # Who sees the link: any of these actions in their scope, or any of these roles (both empty: everybody).
    actions: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    staff_only: bool = False
    # Other URL names under which the link is the current one (aria-current="page").
    also_current: frozenset[str] = frozenset()


NAV_LINKS: dict[str, NavLink] = {}


def register_nav_link(key: str, label: str | Promise, url_name: str, *, order: int,
                      actions: Iterable[str] = (), roles: Iterable[str] = (), staff_only: bool = False,
                      also_current: Iterable[str] = ()) -> None:
    """Add a link to everyone's top bar (registering a key again replaces its link)."""
    NAV_LINKS[key] = NavLink(key, label, url_name, order, frozenset(actions), frozenset(roles), staff_only,
                             frozenset(also_current))


register_nav_link("home", _("Dashboard"), "home", order=0, also_current={
    "dashboards:grid-worker", "dashboards:command", "dashboards:unit", "dashboards:mediator",
    "dashboards:supervisor", "dashboards:administrator"})
register_nav_link("audit-log", _("Audit log"), "audit-log", order=80, actions={Action.ADMINISTER})
register_nav_link("admin", _("Administration"), "admin:index", order=90, staff_only=True)


def _shows(link: NavLink, user, scope, roles: Callable[[], set[str]]) -> bool:
    if link.staff_only and not user.is_staff:
        return False
    if not link.actions and not link.roles:
        return True
    if user.is_superuser:
        return True
    if any(not scope.is_empty(action) for action in link.actions):
        return True
    return bool(link.roles and link.roles & roles())


def nav_links(user, current: str | None = None) -> list[dict]:
    """[{key, label, url, current}] of the links this user sees, in order."""
    if not user.is_authenticated:
        return []
    scope = get_scope(user)
    held: set[str] | None = None

    def roles() -> set[str]:
        nonlocal held
        if held is None:
            held = set(selectors.roles_of(user))
        return held

    return [{"key": link.key, "label": link.label, "url": reverse(link.url_name),
             "current": current is not None and (current == link.url_name or current in link.also_current)}
            for link in sorted(NAV_LINKS.values(), key=lambda link: link.order)
            if _shows(link, user, scope, roles)]


def top_bar(request) -> dict:
    """Context processor: ``nav_links``, computed only when a page draws the bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else None
    return {"nav_links": SimpleLazyObject(lambda: nav_links(user, current))}
