"""``siamtrack serve`` in a real browser: Debian's Chromium, driven headless by Selenium, opens the page
on a generated clip, draws a box around the moving object with the mouse, sees the target's box
follow it, removes it with a click, and saves a screenshot (in the test's folder; also to
``$SIAMTRACK_SCREENSHOT`` when set, which is how docs/images/serve.png is made)."""

import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.test_serve import SPEC, Served, write_clip

# The same path over 800 frames: the object moves under a pixel a frame, so the box drawn from
# the frame number read just before the drag still lands on it however slow the browser is.
SLOW = replace(SPEC, frames=800)

webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test needs selenium (the test extra)")
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                 reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")]


def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=900,700"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def truth_at(truth, frame):
    """The clip's true box for a frame number of a looping stream."""
    return truth[frame % len(truth)]


def test_draw_a_box_follow_the_object_and_remove_it(tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    clip, truth = write_clip(tmp_path, SLOW)
    server = Served(tmp_path, clip, "--loop")
    driver = browser()
    try:
        driver.get(server.url + "/")
        wait = WebDriverWait(driver, 30)
        canvas = wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#stream-0 canvas")))
        wait.until(lambda d: d.execute_script("const i = document.querySelector('#stream-0 img'); "
                                              "return i.complete && i.naturalWidth > 0;"))
        # Draw around where the object is now: read the stream's frame number, take its true box.
        frame = server.client.get("/api/streams/0").json()["frame"]
        lead = 10  # frames the drag and the request take, roughly; the tracker absorbs the rest
        x, y, w, h = truth_at(truth, frame + lead)
        shown = canvas.size  # CSS pixels of the view; the frame is 320 x 240
        scale = shown["width"] / 320
        left, top = -shown["width"] / 2, -shown["height"] / 2  # offsets are from the element's center
        ActionChains(driver).move_to_element_with_offset(canvas, left + x * scale, top + y * scale).click_and_hold() \
            .move_by_offset(w * scale, h * scale).release().perform()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#stream-0 ul.targets li"))
        time.sleep(2.0)  # 50 frames at 25 fps
        state = server.client.get("/api/streams/0").json()
        (target,) = state["targets"]
        bx, by, bw, bh = target["box"]
        tx, ty, tw, th = truth_at(truth, state["frame"])
        center_error = np.hypot(bx + bw / 2 - (tx + tw / 2), by + bh / 2 - (ty + th / 2))
        assert center_error < 8, (target, truth_at(truth, state["frame"]))
        assert not target["lost"]
        screenshot = tmp_path / "serve.png"
        driver.save_screenshot(str(screenshot))
        assert screenshot.stat().st_size > 10_000
        if os.environ.get("SIAMTRACK_SCREENSHOT"):
            shutil.copy(screenshot, Path(os.environ["SIAMTRACK_SCREENSHOT"]))
        # A click inside the target's box removes it.
        state = server.client.get("/api/streams/0").json()
        bx, by, bw, bh = state["targets"][0]["box"]
        ActionChains(driver).move_to_element_with_offset(canvas, left + (bx + bw / 2) * scale,
                                                         top + (by + bh / 2) * scale).click().perform()
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#stream-0 ul.targets li"))
        assert server.client.get("/api/streams/0").json()["targets"] == []
    finally:
        driver.quit()
        server.close()
