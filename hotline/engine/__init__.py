"""Pure domain logic: no SQL, no HTTP, no threads, no wall clock.

Definitions, checks, the compiled machine, ``decide``, deadlines and escalation, history,
KPIs, whistles, migration and replay, and the access policy (who may see and fire what).
May import: ``hotline.errors`` and itself only (tests/unit/test_layout.py checks it).
"""
