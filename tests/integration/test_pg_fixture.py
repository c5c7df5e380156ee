"""The PostgreSQL fixture must fail, never skip, when it is asked for and cannot connect."""

from __future__ import annotations

from pathlib import Path

CONFTEST = Path(__file__).parent.parent / "conftest.py"


def test_unreachable_postgres_fails_the_tests_that_need_it(pytester, monkeypatch):
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile("def test_needs_postgres(pg_url):\n    pass\n")
    monkeypatch.setenv("HOTLINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:1/test")

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*is set but unreachable*"])


def test_unset_postgres_url_skips(pytester, monkeypatch):
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile("def test_needs_postgres(pg_url):\n    pass\n")
    monkeypatch.delenv("HOTLINE_TEST_PG_URL", raising=False)

    result = pytester.runpytest_subprocess()

    result.assert_outcomes(skipped=1)
