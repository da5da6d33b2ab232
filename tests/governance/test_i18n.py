"""The Simplified Chinese catalogue: complete, compiled, and what the pages speak.

The catalogue is regenerated and compiled by ``scripts/i18n.sh``; these tests need no
gettext tools: the .po is read with a small parser and the committed .mo with the
standard library's ``gettext``.
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"

# %(name)s, %(share).2f, %d, %%, and {value}: what must survive translation unchanged.
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%|\{[^{}]*\}")


def read_po(path: Path) -> list[dict]:
    """The entries of a PO file: {"flags", "msgctxt", "msgid", "msgid_plural", "msgstr": [...]}."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry = {"flags": set(), "msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": []}
        key = None
        obsolete = False
        for line in block.strip().splitlines():
            if line.startswith("#~"):
                obsolete = True
            elif line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                value = ast.literal_eval(line)
                if key == "msgstr":
                    entry["msgstr"][-1] += value
                else:
                    entry[key] += value
            else:
                key, _, value = line.partition(" ")
                value = ast.literal_eval(value)
                if key.startswith("msgstr"):
                    key = "msgstr"
                    entry["msgstr"].append(value)
                else:
                    entry[key] = value
        if entry["msgid"] is not None and not obsolete:
            entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    assert PO.is_file(), f"{PO} is missing: run scripts/i18n.sh"
    return read_po(PO)


def messages(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["msgid"] != ""]  # the header has the empty msgid


def test_the_catalogue_is_chinese_with_one_plural_form(entries):
    header = entries[0]
    assert header["msgid"] == ""
    assert "Language: zh_Hans" in header["msgstr"][0]
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"][0]
    assert "fuzzy" not in header["flags"]
    assert len(messages(entries)) > 400


def test_every_msgid_is_translated_and_none_is_fuzzy(entries):
    untranslated = [e["msgid"] for e in messages(entries) if not e["msgstr"] or not all(e["msgstr"])]
    fuzzy = [e["msgid"] for e in messages(entries) if "fuzzy" in e["flags"]]
    assert untranslated == [], f"untranslated (run scripts/i18n.sh, then translate): {untranslated}"
    assert fuzzy == [], f"fuzzy (check them, then remove the flag): {fuzzy}"


def test_plural_entries_have_exactly_one_form(entries):
    for e in messages(entries):
        if e["msgid_plural"] is not None:
            assert len(e["msgstr"]) == 1, e["msgid"]


def test_translations_keep_every_placeholder(entries):
    for e in messages(entries):
        wanted = sorted(PLACEHOLDER.findall(e["msgid"]))
        if "python-format" not in e["flags"] and "python-brace-format" not in e["flags"]:
            # Plain strings: gettext does not interpolate, so only named placeholders matter.
            wanted = sorted(p for p in wanted if p.startswith("%("))
            for msgstr in e["msgstr"]:
                assert sorted(p for p in PLACEHOLDER.findall(msgstr) if p.startswith("%(")) == wanted, e["msgid"]
            continue
        for msgstr in e["msgstr"]:
            assert sorted(PLACEHOLDER.findall(msgstr)) == wanted, (e["msgid"], msgstr)


def test_the_committed_mo_matches_the_po(entries):
    """django.mo is committed (``make run`` needs no gettext tools): it must be compiled from this .po."""
    assert MO.is_file(), f"{MO} is missing: run scripts/i18n.sh"
    with MO.open("rb") as fp:
        catalog = gettext.GNUTranslations(fp)._catalog
    stale = []
    for e in messages(entries):
        key = e["msgid"] if e["msgctxt"] is None else f"{e['msgctxt']}\x04{e['msgid']}"
        if e["msgid_plural"] is None:
            if catalog.get(key) != e["msgstr"][0]:
                stale.append(e["msgid"])
        elif catalog.get((key, 0)) != e["msgstr"][0]:
            stale.append(e["msgid"])
    assert stale == [], f"django.mo is older than django.po (run scripts/i18n.sh): {stale[:10]}"


@pytest.mark.django_db
def test_the_login_page_is_chinese_by_default_and_english_after_switching():
    client = Client()
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "登录" in page and "用户名" in page and "密码" in page
    assert "Log in" not in page

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302 and response.url == "/accounts/login/"
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in page
    assert "Log in" in page and "Username" in page and "Password" in page
    assert "登录" not in page

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert "登录" in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_the_workplace_pages_speak_the_chosen_language(people):
    client = Client()
    client.force_login(people.s11_command)
    queue = client.get("/incidents/queue/").content.decode()
    assert "受理分拨台" in queue and "退出登录" in queue and "Triage queue" not in queue

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    queue = client.get("/incidents/queue/").content.decode()
    assert "Triage queue" in queue and "Log out" in queue and "受理分拨台" not in queue

    client = Client()
    client.force_login(people.worker_g1111)
    filing = client.get("/incidents/new/").content.decode()
    assert "上报事件" in filing and "事件大类" in filing and "File an incident" not in filing
