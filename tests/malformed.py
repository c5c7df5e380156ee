"""Malformed definitions that once crashed, hung or garbled the validator, shared by the CLI and
API tests: each is (file bytes, a substring of the problem it must produce)."""

from __future__ import annotations

from hotline.workflows import reading

MINI = """\
name: mini
initial: received
final: closed
states:
  - name: received
  - name: closed
transitions:
  - {trigger: answer, source: received, dest: closed}
"""

# Nine levels of nine aliases: 9**9 (387 million) nodes once expanded, in under 400 bytes.
ALIAS_BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)),
    ]
).encode()

CASES: dict[str, tuple[bytes, str]] = {
    "latin-1": (
        MINI.replace("name: mini", "name: mini\ntitle: café").encode("latin-1"),
        "not UTF-8",
    ),
    "utf-16": (MINI.encode("utf-16"), "the file is UTF-16; save it as UTF-8"),
    "deeply nested": (
        ("title: " + "[" * 5000 + "]" * 5000 + "\n" + MINI).encode(),
        "nested more than",
    ),
    "alias bomb": (ALIAS_BOMB, "nodes once its aliases are expanded"),
    "duplicate key": (
        MINI.replace("final: closed\n", "final: closed\nfinal: done\n").encode(),
        "key 'final' appears twice, on lines 3 and 4",
    ),
    "brackets in names": (
        MINI.replace("dest: closed}", "dest: '[bold]clo[/bold]sed[x'}").encode(),
        "unknown state '[bold]clo[/bold]sed[x' in dest of 'answer'",
    ),
    "too big": (
        (MINI + "# " + "x" * reading.MAX_BYTES + "\n").encode(),
        f"the limit is {reading.MAX_BYTES:,}",
    ),
    "control character": (MINI.replace("mini", "mi\x00ni").encode(), "not valid YAML"),
}
