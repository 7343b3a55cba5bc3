"""The page of ``emorec serve`` in a real browser: Debian's ``chromium`` and
``chromium-driver`` (``.ci/run`` installs them with apt-get) driven by Selenium through the
system driver. Skipped, with the reason, where Selenium, chromium or chromedriver is absent.

The server runs on 127.0.0.1 on a free port (uvicorn on a thread, stopped at the end); the
webcam is Chromium's fake device fed from a ``.y4m`` video made here from a photo.
Screenshots are saved in each test's temporary folder, and copied into the folder named by
``$EMOREC_TEST_ARTEFACTS`` when it is set.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
pytest.importorskip("python_multipart")
uvicorn = pytest.importorskip("uvicorn")

from emorec import EmotionClassifier  # noqa: E402
from emorec.serve import create_app  # noqa: E402

PHOTOS = Path(__file__).resolve().parents[1] / "examples" / "photos"
ASTRONAUT = PHOTOS / "astronaut.jpg"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
ARTEFACTS = "EMOREC_TEST_ARTEFACTS"
LABELS = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
BLUE = (0x2A, 0x6F, 0xDB)  # the page's box colour


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
    out = write_y4m(ASTRONAUT, tmp_path / "a.y4m", frames=3)
    header, _, rest = out.read_bytes().partition(b"\n")
    assert header.startswith(b"YUV4MPEG2 W512 H512")
    frame = len(b"FRAME\n") + 512 * 512 * 3 // 2
    assert len(rest) == 3 * frame


# ------------------------------------------------------------------ servers and the browser


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a thread, on a free port of 127.0.0.1; yields its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < end:
        time.sleep(0.05)
    assert server.started, f"uvicorn did not start on 127.0.0.1:{port}"
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(10)


def slowed(seconds: float) -> EmotionClassifier:
    """A classifier whose model stage takes ``seconds`` longer: a busy server."""
    clf = EmotionClassifier.load()
    real = clf.classify

    def classify(prepared: Any, tta: Any = None) -> Any:
        time.sleep(seconds)
        return real(prepared, tta)

    clf.classify = classify  # type: ignore[method-assign]
    return clf


@pytest.fixture(scope="module")
def classifier() -> EmotionClassifier:
    return EmotionClassifier.load()


@pytest.fixture(scope="module")
def server_url(classifier) -> Iterator[str]:
    with serving(create_app(classifier)) as url:
        yield url


@pytest.fixture(scope="module")
def busy_url() -> Iterator[str]:
    """One prediction at a time, none waiting (more: 503), each 0.6 s longer."""
    with serving(create_app(slowed(0.6), max_concurrent=1, max_queue=0)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="Selenium is not installed")
    if CHROMIUM is None or DRIVER is None:
        pytest.skip(
            f"chromium ({CHROMIUM or 'absent'}) and chromedriver ({DRIVER or 'absent'}) are "
            "needed: apt-get install chromium chromium-driver (.ci/run does)"
        )
    from selenium.webdriver.chrome.service import Service

    video = write_y4m(ASTRONAUT, tmp_path_factory.mktemp("webcam") / "webcam.y4m")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
        "--window-size=1280,1100",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)  # never downloads one
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, tmp_path: Path, name: str) -> Path:
    """Save the page as ``name`` in ``tmp_path``, and in ``$EMOREC_TEST_ARTEFACTS`` if set."""
    path = tmp_path / name
    assert driver.save_screenshot(str(path)), f"no screenshot saved at {path}"
    if os.environ.get(ARTEFACTS):
        folder = Path(os.environ[ARTEFACTS])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / name)
    return path


def wait_for(driver: Any, script: str, timeout: float = 30) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script))


def open_page(driver: Any, url: str) -> None:
    driver.get(url)
    wait_for(driver, "return document.getElementById('model').textContent.startsWith('Model')")


def canvas_image(driver: Any, css: str) -> Image.Image:
    """The pixels of the page's canvas ``css``, as the browser drew them."""
    url = driver.execute_script(
        "return document.querySelector(arguments[0]).toDataURL('image/png')", css
    )
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two images of one size, in 0..255."""
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


def upload(driver: Any, *paths: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "pick").send_keys("\n".join(str(p) for p in paths))


def results(driver: Any, count: int, timeout: float = 60) -> list[dict[str, str]]:
    """The data of the page's ``count`` photo results, once each has an answer or an error."""
    from selenium.webdriver.support.ui import WebDriverWait

    script = (
        "const r = [...document.querySelectorAll('#results .result')];"
        "return r.length === arguments[0] && r.every((e) => e.dataset.faces || e.dataset.error)"
        " && r.map((e) => ({...e.dataset}));"
    )
    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script, count))


# ------------------------------------------------------------------ photos


def test_a_photo_is_annotated_in_the_browser(browser, server_url, tmp_path):
    from selenium.webdriver.common.by import By

    open_page(browser, server_url)
    upload(browser, ASTRONAUT)
    assert results(browser, 1) == [{"faces": "1"}]
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#results .faces strong")]
    assert len(labels) == 1 and labels[0] in LABELS
    answer = browser.execute_script(
        "return JSON.parse(document.getElementById('json').textContent)"
    )
    assert (answer["width"], answer["height"]) == (512, 512) and len(answer["faces"]) == 1
    assert answer["faces"][0]["label"] == labels[0]
    # The annotated picture: the photo itself, with the face's box drawn in the page's blue.
    drawn = canvas_image(browser, "#results canvas")
    assert drawn.size == (512, 512)
    assert difference(drawn, Image.open(ASTRONAUT).convert("RGB")) < 12
    x, y, w, h = answer["faces"][0]["box"]
    edge = np.asarray(drawn)[y + h, x + w // 2].astype(int)  # the middle of the bottom side
    assert np.abs(edge - BLUE).max() < 40, edge
    assert browser.find_element(By.ID, "status").text == "1 of 1 photo(s) done"
    screenshot(browser, tmp_path, "serve_photo.png")


def test_the_file_picker_is_reachable_from_the_keyboard(browser, server_url):
    open_page(browser, server_url)
    focused = browser.execute_script(
        "document.getElementById('pick').focus(); return document.activeElement.id"
    )
    assert focused == "pick"  # a `hidden` input cannot take the focus


def test_an_exif_rotated_photo_is_drawn_upright_under_its_boxes(browser, server_url, tmp_path):
    upright = Image.open(ASTRONAUT).convert("RGB").crop((0, 0, 512, 384))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # 384 x 512 as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turn 90 degrees clockwise to show
    path = tmp_path / "rotated.jpg"
    stored.save(path, quality=95, exif=exif)

    open_page(browser, server_url)
    upload(browser, path)
    assert results(browser, 1) == [{"faces": "1"}]
    drawn = canvas_image(browser, "#results canvas")
    assert drawn.size == (512, 384)  # the server's upright size
    assert difference(drawn, upright) < 12


def test_many_photos_on_a_busy_server_all_come_back(browser, busy_url, tmp_path):
    paths = []
    for i in range(5):
        paths.append(tmp_path / f"photo{i}.jpg")
        shutil.copy(ASTRONAUT, paths[-1])
    open_page(browser, busy_url)
    upload(browser, *paths)
    # One prediction at a time on the server, none waiting: the page sends a few at a time and
    # asks again after a 503's Retry-After, so none is lost.
    assert results(browser, 5, timeout=90) == [{"faces": "1"}] * 5


def test_a_server_with_a_token_asks_for_it(browser, classifier, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with serving(create_app(classifier, token="s3cret")) as url:
        browser.get(url)
        wait_for(browser, "return !document.getElementById('token-label').hidden")
        assert "token" in browser.find_element(By.ID, "status").text
        browser.find_element(By.ID, "token").send_keys("s3cret", Keys.TAB)  # a change event
        wait_for(browser, "return document.getElementById('model').textContent.startsWith('Model')")
        upload(browser, ASTRONAUT)
        assert results(browser, 1) == [{"faces": "1"}]


# ------------------------------------------------------------------ the webcam


FRAMES = "return Number(document.getElementById('live').dataset.frames || 0)"


def live_frames(driver: Any) -> int:
    """The webcam frames whose answers the page has shown."""
    return int(driver.execute_script(FRAMES))


def test_the_webcam_gives_live_results(browser, server_url, tmp_path):
    from selenium.webdriver.common.by import By

    open_page(browser, server_url)
    browser.find_element(By.ID, "webcam").click()
    wait_for(browser, FRAMES + " >= 5")
    assert browser.find_element(By.ID, "status").text == "webcam: live"
    labels = browser.execute_script(  # in one go: each answer replaces the list
        "return [...document.querySelectorAll('#live-faces strong')].map((e) => e.textContent)"
    )
    assert len(labels) == 1 and labels[0] in LABELS
    drawn = canvas_image(browser, "#live-canvas")
    assert drawn.size == (512, 512)
    assert difference(drawn, Image.open(ASTRONAUT).convert("RGB")) < 20  # the fed photo
    screenshot(browser, tmp_path, "serve_webcam.png")
    browser.find_element(By.ID, "webcam").click()
    assert browser.find_element(By.ID, "live").get_attribute("hidden") is not None
    assert browser.find_element(By.ID, "webcam").get_attribute("aria-pressed") == "false"


def test_an_answer_that_arrives_after_stop_is_dropped(browser, busy_url):
    from selenium.webdriver.common.by import By

    open_page(browser, busy_url)
    browser.find_element(By.ID, "webcam").click()
    # Stop while a frame is out (its answer takes over 0.6 s), in one script: no answer can
    # land between the check and the click.
    (shown,) = wait_for(
        browser,
        "if (!state.busy) return null;"
        "document.getElementById('webcam').click();" + FRAMES.replace("return ", "return [") + "]",
    )
    wait_for(browser, "return !state.busy", timeout=10)  # its answer came back
    time.sleep(0.3)
    assert live_frames(browser) == shown
    assert browser.find_element(By.ID, "status").text == "webcam: stopped"
    assert browser.find_element(By.ID, "live").get_attribute("hidden") is not None
