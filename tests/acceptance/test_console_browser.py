"""The console in a real browser: Playwright drives Debian's chromium against `hotline serve`.

For each role: sign in, open every page of its menu (a screenshot of each is saved under the
test's tmp dir), act on a ticket, meet a stale-version refusal, reveal a contact with a reason
(the roles that may) and find it in the access log (the auditor). No request may leave
127.0.0.1 and the browser's console must stay free of errors.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import serving

from hotline.engine.access import Role
from hotline.persistence.sql import SqlStore
from hotline.service import Intake, Service

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium"
)
UNIT = "water-group"
DISPATCH = {"lead_unit": UNIT, "route": "direct", "co_units": ["street-jianwai"]}
PHONE = "13812345678"


@pytest.fixture
def served(tmp_path):
    """`hotline serve` over a fresh SQLite file; (base url, an in-process service on it)."""
    url = f"sqlite:///{tmp_path / 'console.db'}"
    store = SqlStore(url)
    store.migrate()
    service = Service(store)
    service.install_shipped()
    try:
        with serving.hotline_serve(url) as base:
            yield base, service
    finally:
        service.close()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


class Watched:
    """A page whose every request and console message is watched."""

    def __init__(self, browser, base: str, shots: Path, role: Role) -> None:
        self.base, self.shots, self.role = base, shots, role.value
        self.context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._only_here)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _only_here(self, route) -> None:
        if route.request.url.startswith(self.base + "/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def _console(self, message) -> None:
        # A refusal is a 4xx page by design (409 stale, 400 bad input): chromium logs every
        # such answer as "Failed to load resource"; any other error message counts.
        if (
            message.type == "error"
            and "the server responded with a status of 4" not in message.text
        ):
            self.errors.append(message.text)

    def open(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


def _tokens(service: Service) -> dict[Role, str]:
    return {
        role: service.create_token(f"{role}-desk", role, UNIT if role is Role.UNIT else None)
        for role in Role
    }


def _ticket(service: Service, dispatched: bool = True) -> int:
    intake = Intake("noise", f"water leak, call {PHONE}", contact_name="张三", contact_phone=PHONE)
    ticket = service.submit(intake, actor="operator")
    if dispatched:
        service.fire(ticket.id, "dispatch", DISPATCH, "desk")
    return ticket.id


def _sign_in(watched: Watched, token: str) -> None:
    watched.open("/console/")
    assert "/console/sign-in" in watched.page.url
    watched.page.get_by_label("API 令牌").fill(token)
    watched.page.get_by_role("button", name="登录").click()
    watched.page.wait_for_url("**/console/*")


def _every_menu_page(watched: Watched, role: Role) -> None:
    links = watched.page.locator("nav[aria-label='主菜单'] a")
    paths = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert paths, f"{role} sees no menu"
    for path in paths:
        watched.open(path)
        assert watched.page.locator("h1").count() == 1, path
        watched.shot(f"{role.value}-{path.rsplit('/', 1)[-1]}")


def _act_with_a_stale_refusal_first(watched: Watched, service: Service, ticket_id: int) -> None:
    """Open the ticket, let someone else change it, then act: refused as stale with the fresh
    page; act again: done."""
    watched.open(f"/console/tickets/{ticket_id}")
    service.fire(ticket_id, "respond", {}, "elsewhere")  # another desk was quicker
    _reply(watched, "已修复管道")
    stale = watched.page.locator("#stale")
    stale.wait_for()
    assert "第" in stale.inner_text()
    watched.shot(f"{watched.role}-stale")
    _reply(watched, "已修复管道")
    watched.page.wait_for_url(f"**/console/tickets/{ticket_id}?done=reply")
    assert service.get(ticket_id).state == "handled"


def _reply(watched: Watched, opinion: str) -> None:
    watched.page.locator("details:has(#act-reply) > summary").click()  # the actions fold away
    form = watched.page.locator("#act-reply")
    form.locator("[name='f_opinion']").fill(opinion)
    form.get_by_role("button").click()


def _reveal(watched: Watched, ticket_id: int, reason: str) -> None:
    watched.open(f"/console/tickets/{ticket_id}")
    assert PHONE not in watched.page.locator("#contact + dl").inner_text()
    watched.page.get_by_label("查看联系方式的事由（将被记录）").fill(reason)
    watched.page.get_by_role("button", name="查看联系方式").click()
    assert PHONE in watched.page.locator("#contact-revealed").inner_text()


def _change_the_definition(watched: Watched, service: Service) -> None:
    """The graph of version 1; a draft checked, published, its diff read; a migration dry run."""
    name = "beijing-12345"
    watched.open(f"/console/definitions/{name}?version=1")
    graph = watched.page.locator("#graph-image")
    graph.wait_for()
    assert graph.evaluate("img => img.complete && img.naturalWidth > 0")
    watched.shot("admin-definition-graph")
    watched.open("/console/definitions-draft")
    draft = service.definition_source(name, 1)[1].replace("within: 24h", "within: 12h", 1)
    watched.page.locator("#draft").fill(draft)
    watched.page.get_by_role("button", name="校验", exact=True).click()
    watched.page.locator("#publish").click()
    watched.page.wait_for_url(f"**/console/definitions/{name}/diff?old=1&new=2&published=1")
    assert "24h → 12h" in watched.page.locator("#changes").inner_text()
    watched.shot("admin-definition-diff")
    watched.open(f"/console/definitions/{name}/migrate")
    watched.page.get_by_role("button", name="试运行").click()
    watched.page.locator("#dry-run").wait_for()
    watched.shot("admin-migrate-dry-run")


def _what_if(watched: Watched, service: Service) -> None:
    """From the definitions page: a draft replayed over this month, its result once done."""
    watched.open("/console/definitions")
    watched.page.get_by_role("link", name="草案假如推演").click()
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    watched.page.get_by_label("时期（如 2026-03）").fill(month)
    draft = service.definition_source("beijing-12345", 1)[1].replace("within: 24h", "within: 2h", 1)
    watched.page.locator("#whatif-draft").fill(draft)
    watched.page.get_by_role("button", name="开始推演").click()
    watched.page.locator("#job-status[data-status='done']").wait_for(timeout=60_000)
    assert watched.page.locator("#whatif-units").count() == 1, watched.page.content()
    assert "合计" in watched.page.locator("#whatif-units").inner_text()
    watched.shot(f"{watched.role}-what-if")


def _finished(watched: Watched) -> None:
    """Wait for the background job whose page is open to end (the page reloads itself)."""
    ended = '#job-status:not([data-status="running"])'
    watched.page.wait_for_selector(ended, timeout=90_000)


def _seals_and_export(watched: Watched, seal_file: Path) -> None:
    """Seal now, keep the seal's file, verify every chain against it; today's history downloads."""
    watched.open("/console/audit")
    watched.page.get_by_role("link", name="封存与导出").click()
    watched.page.locator("#seal-now").click()
    _finished(watched)
    assert watched.page.locator("#sealed").count() == 1, watched.page.content()
    with watched.page.expect_download() as kept:
        watched.page.locator("#sealed a").click()
    kept.value.save_as(seal_file)
    watched.open("/console/audit/seals")
    watched.page.locator("#seal-file").set_input_files(str(seal_file))
    watched.page.locator("form:has(#seal-file) button").click()
    _finished(watched)
    assert watched.page.locator("#seal-verified").count() == 1, watched.page.content()
    watched.shot(f"{watched.role}-seals")
    watched.open("/console/audit/seals")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    watched.page.locator("#export-since").fill(today)
    watched.page.locator("#export-until").fill(today)
    with watched.page.expect_download() as download:
        watched.page.locator("form:has(#export-since) button").click()
    assert download.value.suggested_filename == f"events-{today}-{today}.jsonl"
    assert '"trigger": "dispatch"' in Path(download.value.path()).read_text(encoding="utf-8")


def test_every_role_works_the_console_in_chromium(served, browser, tmp_path):
    base, service = served
    tokens = _tokens(service)
    reasons = {Role.OPERATOR: "首次联系市民", Role.UNIT: "上门核实"}
    for role in (Role.OPERATOR, Role.UNIT, Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR):
        watched = Watched(browser, base, tmp_path / "screenshots", role)
        _sign_in(watched, tokens[role])
        # The keyboard reaches the skip link first
        watched.page.keyboard.press("Tab")
        assert watched.page.evaluate("document.activeElement.className") == "skip"
        _every_menu_page(watched, role)
        ticket_id = _ticket(service)
        watched.open(f"/console/tickets/{ticket_id}")
        watched.shot(f"{role.value}-ticket")
        if role in (Role.OPERATOR, Role.UNIT, Role.SUPERVISOR):
            _act_with_a_stale_refusal_first(watched, service, ticket_id)
        if role is Role.SUPERVISOR:
            _what_if(watched, service)
        elif role is Role.AUDITOR:
            assert watched.page.locator("form[id^='act-']").count() == 0  # reads only
        if role in reasons:
            _reveal(watched, ticket_id, reasons[role])
        if role is Role.AUDITOR:
            watched.open("/console/audit")
            log = watched.page.locator("#accesses").inner_text()
            assert all(reason in log for reason in reasons.values()), log
            _seals_and_export(watched, tmp_path / "seal.json")
        if role is Role.ADMIN:  # admins read no tickets, as in the API
            assert "无权操作" in watched.page.locator("h1").inner_text()
            _change_the_definition(watched, service)
        assert watched.outside == [], role
        assert watched.errors == [], role
        watched.context.close()
    assert len(list((tmp_path / "screenshots").glob("*.png"))) >= 15
