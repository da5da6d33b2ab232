"""The ledgers' API through every door: scoped reads, writes refused as documented, the error shape."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from governance.core.testing import PermissionMatrix, api_client
from governance.ledgers.models import Filing, SupervisionNotice


def test_progress_endpoint_is_scoped(ledger, lp, city):
    matrix = PermissionMatrix(read_only=[lp.city_supervisor, lp.d1_supervisor, lp.d1_police], outside=[lp.nobody])
    matrix.read(f"/api/v1/ledgers/programmes/{ledger.programme.pk}/progress/", api=True)
    body = api_client(lp.d2_supervisor).get(f"/api/v1/ledgers/programmes/{ledger.programme.pk}/progress/").json()
    assert {u["unit"] for u in body["units"]} == {"东区公安分局"}
    assert [t["code"] for t in body["tasks"]] == ["1", "1.1", "1.2", "2", "2.1"]
    mine = api_client(lp.d1_police).get("/api/v1/ledgers/responsibilities/", {"mine": "true"}).json()
    assert {r["id"] for r in mine["results"]} == {ledger.r11_d1.pk, ledger.r12_d1.pk}
    bad = api_client(lp.d1_police).get("/api/v1/ledgers/responsibilities/", {"programme": "x"})
    assert bad.status_code == 400 and bad.json()["error"]["code"]


def test_filing_through_the_api(ledger, lp):
    url = f"/api/v1/ledgers/responsibilities/{ledger.r11_d1.pk}/filings/"
    data = {"period": "2026-02", "status": "in_progress", "percent": 45, "narrative": "按月推进"}
    matrix = PermissionMatrix(allowed=[lp.d1_police], read_only=[lp.d1_supervisor, lp.lead],
                              outside=[lp.d2_supervisor, lp.d2_police])
    response = matrix.act(url, api=True, data=data, ok=(201,), snapshot=lambda: Filing.objects.count())
    assert response.json()["version"] == 1
    refused = api_client(lp.d1_police).post(url, json.dumps({**data, "percent": 150}), content_type="application/json")
    assert refused.status_code == 400 and "percent" in refused.json()["error"]["fields"]
    wrong = api_client(lp.d1_police).post(url, json.dumps({**data, "period": "2031-01"}),
                                          content_type="application/json")
    assert wrong.status_code == 400 and "period" in wrong.json()["error"]["fields"]
    filing = Filing.objects.get()
    matrix = PermissionMatrix(allowed=[lp.lead], read_only=[lp.d1_police], outside=[lp.d2_supervisor])
    matrix.act(f"/api/v1/ledgers/filings/{filing.pk}/review/", api=True, data={"decision": "return", "comment": "补充"},
               ok=(200,), snapshot=lambda: Filing.objects.get().review)
    versions = api_client(lp.d1_supervisor).get(url).json()
    assert [(v["version"], v["review"]) for v in versions] == [(1, "returned")]


def test_notices_through_the_api(ledger, lp):
    due = (timezone.localdate() + timedelta(days=4)).isoformat()
    matrix = PermissionMatrix(allowed=[lp.d1_supervisor], read_only=[lp.d1_police, lp.lead],
                              outside=[lp.d2_supervisor])
    matrix.act("/api/v1/ledgers/notices/", api=True, ok=(201,), snapshot=lambda: SupervisionNotice.objects.count(),
               data={"responsibility": ledger.r11_d1.pk, "content": "请加快推进", "due_on": due})
    notice = SupervisionNotice.objects.get()
    assert api_client(lp.d2_supervisor).get("/api/v1/ledgers/notices/").json()["count"] == 0
    matrix = PermissionMatrix(allowed=[lp.d1_police], read_only=[lp.d1_supervisor], outside=[lp.d2_police])
    matrix.act(f"/api/v1/ledgers/notices/{notice.pk}/respond/", api=True, data={"response": "已落实"}, ok=(200,),
               snapshot=lambda: SupervisionNotice.objects.get().status)
    again = api_client(lp.d1_police).post(f"/api/v1/ledgers/notices/{notice.pk}/respond/",
                                          json.dumps({"response": "再答"}), content_type="application/json")
    assert again.status_code == 409
