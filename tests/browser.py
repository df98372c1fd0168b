"""One headless Chromium for every browser test (part pages, the LA finder, explore.html, axe-core).

Tests call `chrome()` (or use the `browser` fixture in conftest.py); the browser is skipped when
chromium is absent on a developer's machine and fails in CI, where INCLUSION_REQUIRE_BROWSER is set."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

BASE_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1280,2000"]


def chrome(*flags: str):
    """A headless Chromium WebDriver; extra `flags` go on its command line."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        if os.environ.get("INCLUSION_REQUIRE_BROWSER"):
            pytest.fail("chromium and chromedriver are required (apt-get install chromium chromium-driver)")
        pytest.skip("chromium/chromedriver not installed")
    opts = webdriver.ChromeOptions()
    for a in [*BASE_FLAGS, *flags]:
        opts.add_argument(a)
    opts.binary_location = chromium
    return webdriver.Chrome(service=Service(driver), options=opts)


AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
IMPACTS = ["minor", "moderate", "serious", "critical"]


def axe_violations(driver, min_impact: str = "moderate") -> list[dict]:
    """Run axe-core (WCAG 2.0-2.2 A and AA rules, plus best practice) on the page open in `driver`;
    return the violations whose impact is `min_impact` or worse, each with its rule id, impact,
    help text and up to three failing selectors."""
    if not AXE.exists():
        if os.environ.get("INCLUSION_REQUIRE_BROWSER"):
            pytest.fail(f"{AXE} is missing: run `npm ci` in the project folder")
        pytest.skip("axe-core not installed (npm ci)")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(120)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
        " 'wcag22aa', 'best-practice']}, resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")
    floor = IMPACTS.index(min_impact)
    return [v for v in result if IMPACTS.index(v["impact"] or "minor") >= floor]


def network_cut_flags() -> list[str]:
    """Chromium flags that make every non-file request fail at once, as with the network cut."""
    return ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>"]
