"""The dashboard in a real headless Chromium (Debian's chromium + chromium-driver), driven by Selenium:
log in, read the fleet, acknowledge an alert, and a viewer's forged POST. Saves the screenshots of
docs/screenshots/fleet-*.png."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from central.fleet import db
from tests.fixtures_fleet_web import ALERT_A, ALERT_B, PASSWORDS, WebServer
from tests.fixtures_mqtt import wait_until

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"

pytestmark = pytest.mark.skipif(
    not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)),
    reason=f"needs {CHROMIUM} and {CHROMEDRIVER} (Debian packages chromium and chromium-driver; `make test` "
           "installs them)")


@pytest.fixture
def browser() -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix="fleet-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--user-data-dir={profile}", "--lang=zh-CN", "--window-size=1280,900"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def shot(driver, name: str, width: int = 1280) -> None:  # noqa: ANN001
    """A full-page screenshot at `width`: the viewport is set to the page's whole height for the shot."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": min(max(height, 600), 4000), "deviceScaleFactor": 1, "mobile": width < 600})
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SHOTS / name))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def log_in(driver, web: WebServer, name: str) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By
    driver.get(f"{web.url}/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[name])
    driver.find_element(By.ID, "login").click()
    wait_until(lambda: driver.find_elements(By.ID, "kiosks"), what=f"the fleet page after {name} logs in",
               seen=lambda: (driver.current_url, driver.title, driver.find_element(By.TAG_NAME, "main").text[:300]))


def alert_acked(web: WebServer, aid: int) -> bool:
    with web.engine.connect() as c:
        return bool(c.execute(select(db.alerts.c.acked).where(db.alerts.c.id == aid)).scalar())


def test_dashboard_in_chromium(browser, fleet_web_sqlite: WebServer) -> None:  # noqa: ANN001
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    web, d = fleet_web_sqlite, browser
    d.get(f"{web.url}/alerts")  # no login: sent to the login page
    assert "/login" in d.current_url and d.find_elements(By.ID, "password")
    shot(d, "fleet-login.png")

    log_in(d, web, "admin")
    states = {r.get_attribute("data-kiosk"): r.get_attribute("data-state")
              for r in d.find_elements(By.CSS_SELECTOR, "tr.kiosk")}
    assert states["k-cg-caigong-1"] == "fault" and states["k-dz-bangdui-1"] == "offline"
    assert states["k-cg-jiri-2"] == "degraded" and states["k-stray-9"] == "unregistered"
    assert d.find_element(By.ID, "count-offline").text.startswith("2")
    assert "wecom-main" in d.find_element(By.CSS_SELECTOR, ".banner").text
    shot(d, "fleet-overview.png")

    d.find_element(By.LINK_TEXT, "k-cg-caigong-1").click()
    wait_until(lambda: "no_reader" in d.page_source, what="the kiosk page")
    assert d.find_element(By.CSS_SELECTOR, "img.shot").get_attribute("naturalWidth") == "100"
    shot(d, "fleet-kiosk.png")

    d.get(f"{web.url}/alerts")
    row = d.find_element(By.CSS_SELECTOR, f'tr[data-alert="{ALERT_A}"]')
    assert row.get_attribute("data-acked") == "no"
    shot(d, "fleet-alerts.png")
    row.find_element(By.CSS_SELECTOR, f'button[data-ack="{ALERT_A}"]').click()
    def acked_row_shown() -> bool:  # the form posts and the page reloads: the old row may go stale mid-read
        try:
            return d.find_element(By.CSS_SELECTOR, f'tr[data-alert="{ALERT_A}"]').get_attribute("data-acked") == "yes"
        except (StaleElementReferenceException, NoSuchElementException):
            return False
    wait_until(acked_row_shown, what="the alert row to show acknowledged")
    assert "admin" in d.find_element(By.CSS_SELECTOR, f'tr[data-alert="{ALERT_A}"]').text
    assert alert_acked(web, ALERT_A)

    d.get(f"{web.url}/charts")
    assert len(d.find_elements(By.CSS_SELECTOR, "svg.chart")) == 3
    shot(d, "fleet-charts.png")

    d.set_window_size(390, 844)  # a phone
    d.get(f"{web.url}/")
    wide = d.execute_script("return document.documentElement.scrollWidth")
    assert wide <= 390, f"the phone layout scrolls sideways ({wide} px)"
    shot(d, "fleet-phone.png", width=390)

    d.find_element(By.CSS_SELECTOR, "form.who button").click()  # log out
    wait_until(lambda: d.find_elements(By.ID, "password"), what="the login page after logout")
    d.set_window_size(1280, 900)
    log_in(d, web, "viewer")
    d.get(f"{web.url}/alerts")
    assert d.find_elements(By.CSS_SELECTOR, f'tr[data-alert="{ALERT_B}"]')
    assert not d.find_elements(By.CSS_SELECTOR, "button[data-ack]"), "a viewer must see no acknowledge button"
    # a forged POST with the viewer's own valid CSRF token: refused for the role
    d.execute_script("""
        const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];
        const i = document.createElement('input'); i.name = 'csrf';
        i.value = document.querySelector('form.who input[name=csrf]').value;
        f.appendChild(i); document.body.appendChild(f); f.submit();""", f"/alerts/{ALERT_B}/ack")
    wait_until(lambda: "403" in d.title, what="the refusal page")
    assert "viewer cannot" in d.page_source
    # and one without a token: refused as CSRF
    d.get(f"{web.url}/alerts")
    d.execute_script("""
        const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];
        document.body.appendChild(f); f.submit();""", f"/alerts/{ALERT_B}/resolve")
    wait_until(lambda: "403" in d.title, what="the CSRF refusal page")
    assert "CSRF" in d.page_source
    assert not alert_acked(web, ALERT_B)
