"""One headless Chromium for every browser test (part pages, the LA finder, explore.html, axe-core).

Tests call `chrome()` (or use the `browser` fixture in conftest.py); the browser is skipped when
chromium is absent on a developer's machine and fails in CI, where INCLUSION_REQUIRE_BROWSER is set."""

from __future__ import annotations

import os
import shutil

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
