"""The screenshot of ``emorec serve``'s page in the docs (``docs/_static/serve_page.png``).

    python benchmarks/serve_screenshot.py [--out docs/_static/serve_page.png] [--photo PATH]
                                          [--width 1000]

Serves :func:`emorec.serve.create_app` on a free port of 127.0.0.1 (uvicorn on a thread),
opens the page in headless Chromium through the system chromedriver (Selenium; Debian:
``apt-get install chromium chromium-driver``), uploads the photo (default
``examples/photos/astronaut.jpg``) through the page's file input, waits for the annotated
result, and saves the page down to its footer as a PNG of 256 colours (small enough for the
docs: under 150 KB at 1000 px wide).
"""

from __future__ import annotations

import argparse
import io
import shutil
import socket
import sys
import threading
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "_static" / "serve_page.png")
    parser.add_argument(
        "--photo", type=Path, default=ROOT / "examples" / "photos" / "astronaut.jpg"
    )
    parser.add_argument("--width", type=int, default=1000, help="browser window width, px")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        sys.exit("needs chromium and chromedriver: apt-get install chromium chromium-driver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        sys.exit('needs Selenium: pip install "emorec[test]" (or pip install selenium)')
    import uvicorn

    from emorec.serve import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + 30
    while not server.started and time.monotonic() < end:
        time.sleep(0.05)
    if not server.started:
        sys.exit(f"the server did not start on 127.0.0.1:{port}")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={args.width},1200")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(driver, 60)
        wait.until(lambda d: d.find_element(By.ID, "model").text.startswith("Model"))
        driver.find_element(By.ID, "pick").send_keys(str(args.photo.resolve()))
        wait.until(lambda d: d.execute_script("return document.querySelector('[data-faces]')"))
        bottom = driver.execute_script(
            "return Math.ceil(document.querySelector('footer').getBoundingClientRect().bottom)"
        )
        png = driver.get_screenshot_as_png()
    finally:
        driver.quit()
        server.should_exit = True
        thread.join(10)
    page = Image.open(io.BytesIO(png)).convert("RGB")
    page = page.crop((0, 0, page.width, min(page.height, int(bottom) + 16)))
    small = page.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    small.save(args.out, optimize=True)
    print(f"{args.out}: {small.width}x{small.height}, {args.out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
