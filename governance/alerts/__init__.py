"""Alerts: deadlines watched by a sweep, raised, acknowledged, resolved and escalated.

* ``models``: one ``Alert`` for every kind of subject (incident now; mediation case
  and pilot-task ledger item later), placed in the territory tree so the scoping
  door applies to it.
* ``sweep``: the engine, run every minute by beat (``governance.tasks.sweep_deadlines``).
  Registered watchers each add a few set-based steps (``UPDATE … WHERE``,
  ``INSERT … SELECT … ON CONFLICT DO NOTHING``), each a short, bounded transaction;
  work that locks what people act on goes in batches.
* ``services`` / ``selectors`` / ``views``: the feed and its acknowledge button.
* ``notify``: the email hook, one Celery task per sweep.

See docs/alerts.md.
"""
