"""The page of ``emorec serve`` in a real browser: Debian's ``chromium`` and
``chromium-driver`` (``.ci/run`` installs them with apt-get) driven by Selenium through the
system driver. Skipped, with the reason, where Selenium, chromium or chromedriver is absent.

Screenshots go to ``$EMOREC_ARTEFACTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

PHOTOS = Path(__file__).resolve().parents[1] / "examples" / "photos"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def write_y4m(photo: Path, out: Path, frames: int = 10) -> Path:
    """A still ``.y4m`` video (4:2:0) of ``photo``, for Chromium's fake webcam."""
    image = Image.open(photo).convert("RGB")
    width, height = (image.width // 2) * 2, (image.height // 2) * 2
    ycc = np.asarray(image.crop((0, 0, width, height)).convert("YCbCr"))
    y = ycc[..., 0].tobytes()
    chroma = [ycc[::2, ::2, c].tobytes() for c in (1, 2)]
    with open(out, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{width} H{height} F5:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(b"FRAME\n" + y + chroma[0] + chroma[1])
    return out


def test_write_y4m_frames_have_the_420_size(tmp_path):
    out = write_y4m(PHOTOS / "astronaut.jpg", tmp_path / "a.y4m", frames=3)
    header, _, rest = out.read_bytes().partition(b"\n")
    assert header.startswith(b"YUV4MPEG2 W512 H512")
    frame = len(b"FRAME\n") + 512 * 512 * 3 // 2
    assert len(rest) == 3 * frame


@pytest.fixture
def server_url():
    from emorec.serve import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not server.started and time.monotonic() < end:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="Selenium is not installed")
    if CHROMIUM is None or DRIVER is None:
        pytest.skip(
            "chromium and chromedriver are not installed (apt-get install chromium "
            "chromium-driver; .ci/run does)"
        )
    from selenium.webdriver.chrome.service import Service

    video = write_y4m(PHOTOS / "astronaut.jpg", tmp_path / "webcam.y4m")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
        "--window-size=1280,1400",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def artefacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("EMOREC_ARTEFACTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait_for(driver, script: str, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script))


def test_a_photo_is_annotated_in_the_browser(browser, server_url, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(server_url)
    wait_for(browser, "return document.getElementById('model').textContent.includes('Model')")
    pick = browser.find_element(By.ID, "pick")
    browser.execute_script("arguments[0].hidden = false", pick)
    pick.send_keys(str(PHOTOS / "astronaut.jpg"))
    faces = wait_for(
        browser,
        "const r = document.querySelector('.result[data-faces]');return r && r.dataset.faces",
    )
    assert faces == "1"
    labels = browser.find_elements(By.CSS_SELECTOR, "#results .faces li strong")
    assert [e.text for e in labels] and labels[0].text in {
        "angry",
        "disgust",
        "fear",
        "happy",
        "sad",
        "surprise",
        "neutral",
    }
    shown = browser.execute_script("return JSON.parse(document.getElementById('json').textContent)")
    assert len(shown["faces"]) == 1 and shown["width"] == 512
    browser.save_screenshot(str(artefacts(tmp_path) / "serve_photo.png"))


def test_the_webcam_gives_live_results(browser, server_url, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(server_url)
    browser.find_element(By.ID, "webcam").click()
    frames = wait_for(
        browser,
        "const n = Number(document.getElementById('live').dataset.frames || 0); return n >= 3 && n",
        timeout=60,
    )
    assert frames >= 3
    assert browser.find_elements(By.CSS_SELECTOR, "#live-faces li")
    browser.save_screenshot(str(artefacts(tmp_path) / "serve_webcam.png"))
    browser.find_element(By.ID, "webcam").click()
    assert browser.find_element(By.ID, "live").get_attribute("hidden") is not None
