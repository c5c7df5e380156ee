"""``hotline workflow validate`` and ``publish`` on malformed files: one ``Error:`` and exit 1,
never a traceback, the user's text shown as written (no Rich markup read into it)."""

from __future__ import annotations

import malformed
import pytest


@pytest.mark.parametrize("case", sorted(malformed.CASES))
def test_validate_refuses_malformed_files_with_an_error_line(hotline, tmp_path, case) -> None:
    raw, expected = malformed.CASES[case]
    path = tmp_path / "draft.yaml"
    path.write_bytes(raw)

    code, stdout, stderr = hotline("workflow", "validate", str(path))

    assert code == 1
    assert stderr.startswith("Error: ")
    assert expected in stderr
    assert "Traceback" not in stdout + stderr


def test_publish_refuses_a_malformed_file_and_stores_nothing(hotline, tmp_path) -> None:
    raw, expected = malformed.CASES["brackets in names"]
    path = tmp_path / "draft.yaml"
    path.write_bytes(raw)
    assert hotline("init")[0] == 0

    code, _, stderr = hotline("workflow", "publish", str(path))

    assert (code, expected in stderr) == (1, True)
    _, listing, _ = hotline("workflow", "list")
    assert "mini" not in listing


def test_a_valid_file_with_brackets_in_its_title_is_printed_as_written(hotline, tmp_path) -> None:
    path = tmp_path / "[draft].yaml"
    path.write_text(malformed.MINI.replace("name: mini", "name: mini\ntitle: '[red]x'"))

    code, stdout, _ = hotline("workflow", "validate", str(path))

    assert code == 0
    assert "[draft].yaml: valid (2 states, 1 transitions)" in stdout
