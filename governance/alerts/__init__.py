"""Alerts: deadlines watched by a sweep, raised, acknowledged, resolved and escalated.

* ``models``: one ``Alert`` for every kind of subject (incident now; mediation case
  and pilot-task ledger item later), placed in the territory tree so the scoping
  door applies to it.
* ``sweep``: the engine. Registered watchers each add a few set-based statements
  (``UPDATE … WHERE``, ``INSERT … SELECT … ON CONFLICT DO NOTHING``) to one
  transaction run every minute by beat (``governance.tasks.sweep_deadlines``).
* ``services`` / ``selectors`` / ``views``: the feed and its acknowledge button.
* ``notify``: the email hook, one Celery task per sweep.

See docs/alerts.md.
"""
