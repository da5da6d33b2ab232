"""The permission matrix every app's tests run through its pages and API (NetBox's ``utilities/testing``).

Given the doors of an object (its page, its API endpoint, an action) and the fixed personas, it
asserts the answer each kind of persona must get:

============  =========================  ==========================================
persona       reading (GET)              acting (POST, …)
============  =========================  ==========================================
allowed       200                        the success status given (200, 201, 302…)
read_only     200                        403: may see it, may not do this
outside       404: hidden is missing     404
anonymous     401 (API) / login (page)   401 (API) / login (page)
============  =========================  ==========================================

Writes are tried by everyone who must be refused first, each followed by ``unchanged()`` (a
snapshot of what the write would touch, compared before and after), and by the allowed persona
last, so that a refused write is shown to have changed nothing.

    matrix = PermissionMatrix(allowed=[people.s11_command], read_only=[people.d1_supervisor],
                              outside=[people.d2_command])
    matrix.read(f"/incidents/{pk}/")
    matrix.read(f"/api/v1/incidents/{pk}/", api=True)
    matrix.act(f"/api/v1/incidents/{pk}/accept/", api=True, snapshot=lambda: Incident.objects.get(pk=pk).status)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.test import Client


def page_client(user, *, language: str | None = None) -> Client:
    """A browser-like client logged in as ``user`` (a session), in ``language`` when given (e.g. "en")."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language) if language else Client()
    if user is not None:
        client.force_login(user)
    return client


def api_client(user) -> Client:
    """An API client with ``user``'s token (made when missing); anonymous for ``None``."""
    from rest_framework.authtoken.models import Token

    if user is None:
        return Client()
    token, _created = Token.objects.get_or_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def body_of(response) -> bytes:
    """A response's body, whether it was sent whole or streamed (a file: ``FileResponse``)."""
    return b"".join(response.streaming_content) if response.streaming else response.content


@dataclass
class PermissionMatrix:
    """The personas of one object: who may act on it, who may only see it, who may not see it."""

    allowed: Sequence = ()
    read_only: Sequence = ()
    outside: Sequence = ()
    anonymous: bool = True
    answers: list[tuple[str, str, str, int]] = field(default_factory=list)  # (door, who, expected, got)

    def _call(self, user, url: str, *, method: str, api: bool, data) -> object:
        client = api_client(user) if api else page_client(user)
        kwargs = {}
        if data is not None:
            if api and method != "get":
                kwargs = {"data": json.dumps(data), "content_type": "application/json"}
            else:
                kwargs = {"data": data}
        return getattr(client, method)(url, **kwargs)

    def _expect(self, response, expected: set[int], who, url: str, method: str) -> None:
        label = getattr(who, "username", "anonymous")
        self.answers.append((f"{method.upper()} {url}", label, "/".join(map(str, sorted(expected))),
                             response.status_code))
        assert response.status_code in expected, (
            f"{method.upper()} {url} as {label}: expected {sorted(expected)}, got {response.status_code}: "
            f"{response.content[:300]!r}")

    def _refused_anonymously(self, response, api: bool, url: str, method: str) -> None:
        if api:
            self._expect(response, {401}, None, url, method)
        else:
            self._expect(response, {302}, None, url, method)
            assert "/login/" in response["Location"], f"{url}: an anonymous visitor is sent to log in"

    def read(self, url: str, *, api: bool = False, ok: int = 200, data=None) -> None:
        """A page or endpoint that shows the object: the allowed and the read-only see it."""
        for user in [*self.allowed, *self.read_only]:
            self._expect(self._call(user, url, method="get", api=api, data=data), {ok}, user, url, "get")
        for user in self.outside:
            self._expect(self._call(user, url, method="get", api=api, data=data), {404}, user, url, "get")
        if self.anonymous:
            self._refused_anonymously(self._call(None, url, method="get", api=api, data=data), api, url, "get")

    def act(self, url: str, *, api: bool = False, data=None, method: str = "post", ok: Sequence[int] = (200, 302),
            snapshot: Callable[[], object] | None = None) -> object:
        """A write: refused (403/404/401 or the login page) and changing nothing for everyone but the allowed.

        Returns the allowed persona's response (the last call), for the caller to check what it did.
        """
        before = snapshot() if snapshot is not None else None

        def unchanged(who: str) -> None:
            if snapshot is not None:
                assert snapshot() == before, f"{method.upper()} {url} as {who} was refused but changed something"

        for user in self.read_only:
            self._expect(self._call(user, url, method=method, api=api, data=data), {403}, user, url, method)
            unchanged(user.username)
        for user in self.outside:
            self._expect(self._call(user, url, method=method, api=api, data=data), {404}, user, url, method)
            unchanged(user.username)
        if self.anonymous:
            self._refused_anonymously(self._call(None, url, method=method, api=api, data=data), api, url, method)
            unchanged("anonymous")
        response = None
        for user in self.allowed:
            response = self._call(user, url, method=method, api=api, data=data)
            self._expect(response, set(ok), user, url, method)
        return response
