"""emorec.serve and ``emorec serve``: the page, the API, and hostile requests."""

from __future__ import annotations

import asyncio
import io
import struct
import sys
import tempfile
import threading
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("python_multipart")
httpx = pytest.importorskip("httpx")

with warnings.catch_warnings():  # Starlette's TestClient asks for httpx2 over httpx
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient
from PIL import Image  # noqa: E402

from emorec import EmotionClassifier  # noqa: E402
from emorec.cli import main  # noqa: E402
from emorec.cli.serve import allowed_hosts  # noqa: E402
from emorec.serve import create_app  # noqa: E402
from emorec.serve.guard import host_allowed  # noqa: E402

PHOTOS = Path(__file__).resolve().parents[1] / "examples" / "photos"
BASE = "http://127.0.0.1"


@pytest.fixture(scope="module")
def classifier() -> EmotionClassifier:
    return EmotionClassifier.load()


@pytest.fixture(scope="module")
def client(classifier) -> TestClient:
    return TestClient(create_app(classifier), base_url=BASE)


@pytest.fixture(scope="module")
def astronaut() -> bytes:
    return (PHOTOS / "astronaut.jpg").read_bytes()


def jpeg(data: bytes) -> dict[str, str]:
    return {"Content-Type": "image/jpeg"}


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small PNG file whose header declares ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def check_answer(answer: dict, classifier: EmotionClassifier) -> None:
    assert answer["model"] == "ferplus_vgg_m"
    assert answer["labels"] == list(classifier.labels)
    assert (answer["width"], answer["height"]) == Image.open(PHOTOS / "astronaut.jpg").size
    (face,) = answer["faces"]
    assert face["label"] in answer["labels"]
    assert set(face["probabilities"]) == set(answer["labels"])
    assert face["score"] == pytest.approx(max(face["probabilities"].values()))
    assert len(face["box"]) == 4 and all(isinstance(v, int) for v in face["box"])
    assert face["keypoints"] is None or all(len(p) == 2 for p in face["keypoints"])


# ------------------------------------------------------------------ the API


def test_predict_a_raw_body(client, classifier, astronaut):
    response = client.post("/v1/predict", content=astronaut, headers=jpeg(astronaut))
    assert response.status_code == 200, response.text
    check_answer(response.json(), classifier)


def test_predict_a_multipart_upload_matches_the_library(client, classifier, astronaut):
    response = client.post("/v1/predict", files={"image": ("a.jpg", astronaut, "image/jpeg")})
    assert response.status_code == 200, response.text
    answer = response.json()
    check_answer(answer, classifier)
    (expected,) = classifier.predict(astronaut)
    assert answer["faces"][0]["label"] == expected.label
    assert answer["faces"][0]["box"] == list(expected.box)
    assert answer["faces"][0]["score"] == pytest.approx(expected.score, abs=1e-6)


def test_models_and_healthz(client, classifier):
    models = client.get("/v1/models").json()
    assert models["model"] == "ferplus_vgg_m"
    assert models["labels"] == list(classifier.labels)
    assert "ferplus_vgg_m" in models["bundled"]
    assert client.get("/healthz").json() == {"status": "ok"}


def test_openapi_describes_predict_and_the_docs_page_loads_nothing_from_elsewhere(client):
    import re

    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/predict"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "image/*"} <= set(body)
    assert "/v1/models" in spec["paths"] and "/healthz" in spec["paths"]
    assert client.get("/redoc").status_code == 404  # FastAPI's ReDoc loads from a CDN
    pytest.importorskip("fastapi_offline")
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", docs.text)
    assert urls and not [u for u in urls if "//" in u], urls  # no CDN, no other host
    for url in urls:
        if url.startswith("/docs/files/"):
            answer = client.get(url)
            assert answer.status_code == 200 and len(answer.content) > 100, url
    assert client.get("/docs/files/../app.py").status_code == 404
    assert client.get("/docs/files/index.html").status_code == 404  # only the files it needs


def test_the_docs_page_says_what_to_install_without_swagger_ui(monkeypatch, client):
    from emorec.serve import app as app_module

    monkeypatch.setattr(app_module, "swagger_ui_folder", lambda: None)
    answer = client.get("/docs")
    assert answer.status_code == 404 and "fastapi-offline" in answer.json()["error"]


def test_unknown_pages_and_methods_answer_json(client):
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.json() == {"error": "no such page: /nope"}
    wrong = client.get("/v1/predict")
    assert wrong.status_code == 405 and "error" in wrong.json()


# ------------------------------------------------------------------ the page


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/", "text/html"),
        ("/static/index.html", "text/html"),
        ("/static/app.js", "text/javascript"),
        ("/static/style.css", "text/css"),
    ],
)
def test_the_page_is_served_from_the_package_with_no_external_urls(client, path, kind):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(kind)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    for scheme in ("http://", "https://", "//cdn"):
        assert scheme not in response.text
    assert "http" not in response.headers["content-security-policy"]
    assert client.head(path).status_code == 200


def test_the_page_uses_the_api_and_the_webcam(client):
    html = client.get("/").text
    script = client.get("/static/app.js").text
    assert '<script src="/static/app.js"' in html and 'href="/static/style.css"' in html
    assert "/v1/predict" in script and "getUserMedia" in script
    assert "state.busy" in script  # one webcam frame in flight
    # The rest is checked in a real browser (test_serve_browser.py); here, where none is:
    assert "Retry-After" in script  # a busy server is asked again, not shown as an error
    assert 'id="pick" class="visually-hidden"' in html  # focusable: not the hidden attribute


def test_other_files_are_not_served(client):
    for path in ("/static/__init__.py", "/static/..%2Fapp.py", "/static/../app.py"):
        assert client.get(path).status_code == 404


# ------------------------------------------------------------------ safe by default


def test_a_foreign_host_header_is_refused(classifier):
    app = create_app(classifier)
    foreign = TestClient(app, base_url="http://evil.example:8000")
    response = foreign.get("/healthz")
    assert response.status_code == 400
    assert "evil.example" in response.json()["error"]
    assert TestClient(app, base_url="http://localhost:8000").get("/healthz").status_code == 200


def test_host_names():
    assert host_allowed("[::1]:8000", ["::1"])
    assert not host_allowed("127.0.0.1.evil.example", ["127.0.0.1"])
    assert not host_allowed("", ["127.0.0.1"])
    assert host_allowed("anything", ["*"])
    assert allowed_hosts("0.0.0.0", None) == ["*"]
    assert allowed_hosts("localhost", ["me.lan"]) == ["127.0.0.1", "localhost", "::1", "me.lan"]


def test_a_token_guards_the_api_but_not_the_page(classifier, astronaut):
    guarded = TestClient(create_app(classifier, token="s3cret"), base_url=BASE)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
        response = guarded.get("/v1/models", headers=headers)
        assert response.status_code == 401
        assert "Authorization: Bearer" in response.json()["error"]
        assert guarded.post("/v1/predict", content=astronaut, headers=headers).status_code == 401
    ok = {"Authorization": "Bearer s3cret"}
    assert guarded.get("/v1/models", headers=ok).status_code == 200
    answer = guarded.post("/v1/predict", content=astronaut, headers={**ok, **jpeg(astronaut)})
    assert answer.status_code == 200 and len(answer.json()["faces"]) == 1
    assert guarded.get("/").status_code == 200 and guarded.get("/healthz").status_code == 200


def test_a_body_over_the_limit_is_413_by_content_length(classifier, astronaut):
    small = TestClient(create_app(classifier, max_body_bytes=len(astronaut) - 1), base_url=BASE)
    response = small.post("/v1/predict", content=astronaut, headers=jpeg(astronaut))
    assert response.status_code == 413
    assert str(len(astronaut) - 1) in response.json()["error"]
    assert small.post("/v1/predict", files={"image": ("a.jpg", astronaut)}).status_code == 413


def test_a_chunked_body_over_the_limit_is_413_while_read(classifier):
    small = TestClient(create_app(classifier, max_body_bytes=100_000), base_url=BASE)
    sent = []

    def chunks():
        for _ in range(1000):  # 64 MB if it were all read
            sent.append(1)
            yield b"\xff" * 65536

    response = small.post("/v1/predict", content=chunks(), headers={"Content-Type": "image/jpeg"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert "limit of 100000 bytes" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"", "image/jpeg", 400, "empty body"),
        (b"hello", "text/plain", 415, "Content-Type 'text/plain'"),
        (b'{"path": "/etc/passwd"}', "application/json", 415, "expected an image"),
        (b"/etc/passwd", "image/jpeg", 400, "not a readable image"),
        (b"https://example.com/a.jpg", "application/octet-stream", 400, "not a readable image"),
        (b"hello", None, 415, "Content-Type 'missing'"),
        (b"--x\r\nbroken", "multipart/form-data", 400, "without a boundary"),
    ],
)
def test_bad_bodies_are_4xx_json(client, body, content_type, status, message):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/v1/predict", content=body, headers=headers)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_a_truncated_jpeg_is_400(client, astronaut):
    response = client.post("/v1/predict", content=astronaut[:5000], headers=jpeg(astronaut))
    assert response.status_code == 400
    assert "truncated" in response.json()["error"]


def test_a_decompression_bomb_png_is_refused_unread(client):
    response = client.post("/v1/predict", files={"image": ("bomb.png", bomb_png(), "image/png")})
    assert response.status_code == 400
    assert "pixels" in response.json()["error"]


def test_a_form_without_the_image_field_or_with_many_parts_is_400(client, astronaut):
    wrong = client.post("/v1/predict", files={"photo": ("a.jpg", astronaut, "image/jpeg")})
    assert wrong.status_code == 400 and "no field 'image'" in wrong.json()["error"]
    many = [("x", ("x.txt", b"x", "text/plain"))] * 50 + [("image", ("a.jpg", astronaut))]
    response = client.post("/v1/predict", files=many)
    assert response.status_code == 400 and "more than 8 parts" in response.json()["error"]
    broken = client.post(
        "/v1/predict",
        content=b"--b\r\nContent-Disposition: form-data; name=image\r\n\r\nabc",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert broken.status_code == 400


def test_uploads_write_no_files(classifier, tmp_path, monkeypatch):
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))  # where a spooled upload would go
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (900, 900, 3), np.uint8))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    big = buffer.getvalue()
    assert len(big) > 1024 * 1024  # over Starlette's in-memory spool size
    client = TestClient(create_app(classifier), base_url=BASE)
    response = client.post("/v1/predict", files={"image": ("big.png", big, "image/png")})
    assert response.status_code == 200, response.text
    assert (response.json()["width"], response.json()["height"]) == (900, 900)
    assert list(spool.iterdir()) == []


@pytest.mark.parametrize("max_queue", [0, 1])
def test_a_full_server_answers_503_with_retry_after(astronaut, monkeypatch, max_queue):
    entered, release = threading.Event(), threading.Event()
    slow = EmotionClassifier.load()
    real = slow.classify
    calls = []

    def classify(prepared, tta=None):
        calls.append(1)
        entered.set()
        release.wait(30)
        return real(prepared, tta)

    monkeypatch.setattr(slow, "classify", classify)
    app = create_app(slow, max_concurrent=1, max_queue=max_queue)

    async def at_once():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:

            def post():
                return client.post("/v1/predict", content=astronaut, headers=jpeg(astronaut))

            running = asyncio.create_task(post())
            assert await asyncio.to_thread(entered.wait, 30)
            waiting = [asyncio.create_task(post()) for _ in range(max_queue)]
            await asyncio.sleep(0.2)  # the waiting ones are queued for the slot
            refused = await post()
            release.set()
            return await running, await asyncio.gather(*waiting), refused

    try:
        running, waiting, refused = asyncio.run(at_once())
    finally:
        release.set()
    assert running.status_code == 200
    assert [w.status_code for w in waiting] == [200] * max_queue
    assert len(calls) == 1 + max_queue  # the refused request never reached the model
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert "busy: 1 predictions running" in refused.json()["error"]


def test_bad_settings_are_refused(classifier):
    with pytest.raises(ValueError, match="max_concurrent=0"):
        create_app(classifier, max_concurrent=0)
    with pytest.raises(ValueError, match="max_queue=-1"):
        create_app(classifier, max_queue=-1)
    with pytest.raises(ValueError, match="max_body_bytes=0"):
        create_app(classifier, max_body_bytes=0)


# ------------------------------------------------------------------ the command


def test_serve_binds_loopback_by_default(monkeypatch, caplog):
    import uvicorn

    calls = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(app=app, **kw))
    monkeypatch.delenv("EMOREC_SERVE_TOKEN", raising=False)
    assert main(["serve", "--port", "8123"]) == 0
    assert calls["host"] == "127.0.0.1" and calls["port"] == 8123
    client = TestClient(calls["app"], base_url=BASE)
    assert client.get("/v1/models").status_code == 200  # no token on loopback by default
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_serve_on_another_address_warns_and_takes_the_token_from_the_environment(
    monkeypatch, caplog
):
    import uvicorn

    calls = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(app=app, **kw))
    monkeypatch.delenv("EMOREC_SERVE_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 0
    assert "anyone can use it" in caplog.text
    caplog.clear()
    monkeypatch.setenv("EMOREC_SERVE_TOKEN", "t0ken")
    assert main(["serve", "--host", "0.0.0.0", "--max-body-mb", "1"]) == 0
    assert "reachable from other machines" in caplog.text and "anyone" not in caplog.text
    client = TestClient(calls["app"], base_url="http://my.lan")
    assert client.get("/v1/models").status_code == 401
    assert client.get("/v1/models", headers={"Authorization": "Bearer t0ken"}).status_code == 200
    big = client.post("/v1/predict", content=b"\0" * (1024 * 1024 + 1))
    assert big.status_code in (401, 413)


def test_serve_without_the_extra_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn raises ImportError
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert 'pip install "emorec[serve]"' in err
