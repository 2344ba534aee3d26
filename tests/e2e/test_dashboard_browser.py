"""The operator dashboard in a real browser: a transfer reaches ``completed`` on its page live.

Every part is a process (``tests/e2e/harness.py``): a devnet node, anvil, the API
(``pjgw serve --no-relay``), three notaries and one relayer on a SQLite store.
Debian's Chromium (``/usr/bin/chromium``), driven by Playwright from PyPI, signs
in with an admin key through the login form, opens the transfer's page while the
transfer is still ``requested`` (the relayer is not started yet), and stays on
it: the relayer is started and the page must show ``completed`` without a
reload (``static/live.js`` follows ``/v1/transfers/{id}/events``). Then the
routes page shows the relayer's report and an admin pauses the route there.

With ``PJGW_SCREENSHOTS=<dir>`` the test also saves a PNG of every page there
(``docs/screenshots/`` holds the committed ones; ``docs/operator-guide.md``).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness import AMOUNT, Hub, chains_toml, create_key, signed_send, voucher_balance
from tests.fixtures.devnet import DevnetProcess
from tests.fixtures.relay import ROUTE, Anvil

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = ["overview", "chains", "routes", "transfers", "swaps", "notaries", "relayers"]


def chromium(playwright: Any) -> Any:
    """Debian's Chromium; a clear failure (never a skip) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver "
            "(the dashboard's browser test runs the system browser, never `playwright install`)"
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def shoot(page: Any, name: str) -> None:
    folder = os.environ.get("PJGW_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_a_missing_chromium_fails_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(f"{__name__}.CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium chromium-driver"):
        chromium(object())


@pytest.mark.timeout(300)
def test_a_transfer_reaches_completed_on_its_dashboard_page_without_a_reload(
    devnet: DevnetProcess, stamped: Anvil, hub: Hub
) -> None:
    from playwright.sync_api import expect, sync_playwright

    env = stamped
    relayer_chains = hub.write("relayer.toml", chains_toml(devnet.url, env, hub=True))
    notary_chains = hub.write("notary.toml", chains_toml(devnet.url, env, hub=False))
    url = hub.start_api(relayer_chains)
    admin_key = create_key(hub.store_env, "operator", "admin")
    client_key = create_key(hub.store_env, "wallet", "client")
    for i in range(3):
        hub.start_notary(i, notary_chains)
    before = voucher_balance(env, env.alice)
    deadline = int(env.chain.timestamp()) + 3600
    sender, tx = signed_send(devnet.url, env.alice, deadline)
    body = {
        "route_id": ROUTE,
        "kind": "asset",
        "sender": sender,
        "receiver": env.alice,
        "denom": "upj",
        "amount": str(AMOUNT),
        "timeout_seconds": deadline,
        "signed_tx": "0x" + tx.hex(),
    }
    headers = {"X-API-Key": client_key, "Idempotency-Key": str(uuid.uuid4())}
    created = httpx.post(url + "/v1/transfers", json=body, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    transfer_id = created.json()["id"]

    with sync_playwright() as playwright:
        browser = chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(f"{url}/ui/transfers/{transfer_id}")
            assert page.url.startswith(f"{url}/ui/login"), page.url  # no key yet: sign in
            shoot(page, "login")
            page.fill("input[name=api_key]", admin_key)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            assert page.url == f"{url}/ui/transfers/{transfer_id}", page.content()
            state = page.locator("#transfer-state")
            assert state.get_attribute("data-state") == "requested"  # no relayer runs yet
            page.evaluate("window.__sameDocument = 'yes'")

            hub.start_relayer("relayer", relayer_chains)
            try:
                expect(state).to_have_attribute("data-state", "completed", timeout=120_000)
            except AssertionError:
                raise AssertionError(
                    f"not completed on the page\n{hub.processes.tails()}"
                ) from None
            assert page.evaluate("window.__sameDocument") == "yes"  # the page never reloaded
            assert int(page.locator("#transfer").get_attribute("data-applied") or 0) > 1
            expect(page.locator("#timeline")).to_contain_text("completed")
            expect(page.locator("#retry")).to_have_count(0)  # nothing left to retry
            if os.environ.get("PJGW_SCREENSHOTS"):
                page.reload()  # the parts rendered once (journal, notaries) as they are now
                shoot(page, "transfer")

            page.goto(f"{url}/ui/routes")
            expect(page.locator(f"[id='{ROUTE}']")).to_contain_text("running")
            if os.environ.get("PJGW_SCREENSHOTS"):
                for name in PAGES:
                    page.goto(f"{url}/ui" + ("" if name == "overview" else f"/{name}"))
                    shoot(page, name)
                page.goto(f"{url}/ui/transfers?q={env.alice}")
                shoot(page, "search")
                page.goto(f"{url}/ui/routes")
            page.click(f"[id='{ROUTE}'] button.action")  # an admin pauses the route
            expect(page.locator(f"[id='{ROUTE}']")).to_contain_text("paused")
            routes = httpx.get(url + "/v1/routes", timeout=10).json()
            assert {r["route_id"]: r["paused_reason"] for r in routes}[ROUTE] == (
                "paused from the dashboard by operator"
            )
        finally:
            browser.close()
    # (read after the browser is closed: Playwright's sync API holds an event loop)
    assert voucher_balance(env, env.alice) == before + AMOUNT  # and so say the chains
