"""``create_app``: the FastAPI application behind ``emorec serve``.

Routes: ``GET /`` (the page, with its script and style, all served from this package: no
CDN), ``POST /v1/predict`` (an image in, its faces' emotions out), ``GET /v1/models``,
``GET /healthz``, ``GET /openapi.json`` and ``GET /docs``, the API's Swagger UI page, its
scripts served from the ``fastapi-offline`` package (in ``emorec[serve]``), not from a CDN:
this server works offline. (FastAPI's own docs pages load their scripts from a CDN, so they
are turned off, ReDoc too.)

A prediction decodes the upload with :func:`emorec.load_image` (its format allow-list and
pixel limit), then runs the library's two stages, :meth:`~emorec.EmotionClassifier.prepare`
and :meth:`~emorec.EmotionClassifier.classify`, on a worker thread; at most
``max_concurrent`` predictions run at once, at most ``max_queue`` more wait for them, and
a request beyond that is answered 503 with ``Retry-After``. Every error is a JSON body
``{"error": "..."}``.

Examples
--------
>>> from fastapi.testclient import TestClient
>>> from emorec.serve import create_app
>>> client = TestClient(create_app(), base_url="http://localhost")
>>> with open("examples/photos/astronaut.jpg", "rb") as fh:
...     answer = client.post("/v1/predict", content=fh.read(),
...                          headers={"Content-Type": "image/jpeg"}).json()
>>> len(answer["faces"]), answer["faces"][0]["label"] in answer["labels"]
(1, True)
"""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations, which
# name classes imported inside create_app.
import asyncio
import importlib.util
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..images import ImageError, load_image
from .guard import Guard, loopback_hosts
from .uploads import FIELD, UploadError, image_bytes

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ..classifier import EmotionClassifier

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_CONCURRENT",
    "DEFAULT_MAX_QUEUE",
    "create_app",
    "predict_bytes",
]

#: The largest request body accepted by default (20 MB).
DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024
#: Predictions that may run at once by default (on worker threads).
DEFAULT_MAX_CONCURRENT = 4
#: Requests that may wait for a running prediction by default; more are answered 503.
DEFAULT_MAX_QUEUE = 16
#: Seconds a client is asked to wait after a 503.
RETRY_AFTER = 1

#: The page's files and their content types.
PAGE = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}

#: Headers on every page file: scripts, styles, images and requests from this server only.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob: mediastream:; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

#: The Swagger UI files ``/docs`` needs, from the ``fastapi-offline`` package (which ships
#: them for exactly this: FastAPI's self-hosted docs assets).
SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}

#: Headers on the docs page: as the page's, but Swagger UI starts from an inline script.
DOCS_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; "
    "base-uri 'none'",
}


def swagger_ui_folder() -> Any:
    """The folder of Swagger UI's files in the installed ``fastapi-offline``, else None."""
    try:
        spec = importlib.util.find_spec("fastapi_offline")
    except ValueError:
        return None
    if spec is None:
        return None
    return resources.files("fastapi_offline") / "static"


PREDICT_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {FIELD: {"type": "string", "format": "binary"}},
                "required": [FIELD],
            }
        },
        "image/*": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


def predict_bytes(classifier: "EmotionClassifier", data: bytes, model: str) -> dict[str, Any]:
    """The JSON answer for one encoded image: decode it with the classifier's pixel limit,
    find and classify its faces (blocking; the server runs it on a worker thread).

    Raises
    ------
    emorec.ImageError
        For bytes that are not a readable image of an allowed format, or too many pixels.

    Examples
    --------
    >>> from emorec import EmotionClassifier
    >>> from emorec.serve.app import predict_bytes
    >>> clf = EmotionClassifier.load()
    >>> with open("examples/photos/astronaut.jpg", "rb") as fh:
    ...     out = predict_bytes(clf, fh.read(), "ferplus_vgg_m")
    >>> out["model"], len(out["faces"]), out["width"] > 0
    ('ferplus_vgg_m', 1, True)
    """
    rgb = load_image(data, "rgb", max_pixels=classifier.max_pixels)
    prepared = classifier.prepare(rgb)
    (faces,) = classifier.classify([prepared])
    return {
        "model": model,
        "labels": list(classifier.labels),
        "width": int(rgb.shape[1]),
        "height": int(rgb.shape[0]),
        "faces": [face.to_dict() for face in faces] if isinstance(faces, list) else [],
    }


def create_app(
    classifier: "EmotionClassifier | None" = None,
    *,
    model: str | None = None,
    token: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_concurrent: int = DEFAULT_MAX_CONCURRENT,
    max_queue: int = DEFAULT_MAX_QUEUE,
    allowed_hosts: list[str] | None = None,
) -> "FastAPI":
    """The web application: the page and the REST API over one loaded classifier.

    Parameters
    ----------
    classifier : EmotionClassifier, optional
        The classifier to serve (default: ``EmotionClassifier.load(model)``, loaded once here).
    model : str, optional
        The name the API reports (and loads, when ``classifier`` is not given); default the
        bundled default model.
    token : str, optional
        A bearer token every ``/v1`` request must send (``Authorization: Bearer <token>``).
    max_body_bytes : int
        The largest request body; a larger one is answered 413.
    max_concurrent : int
        Predictions that may run at once on worker threads.
    max_queue : int
        Requests that may wait for one of those; one more is answered 503 with
        ``Retry-After``.
    allowed_hosts : list of str, optional
        ``Host`` header names accepted (default: the loopback names; ``["*"]`` for any).

    Returns
    -------
    fastapi.FastAPI
    """
    from .._optional import require

    require("fastapi", "emorec serve")
    require("python_multipart", "emorec serve")
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException

    from ..classifier import EmotionClassifier
    from ..models.files import DEFAULT_PRETRAINED

    if max_body_bytes < 1:
        raise ValueError(f"max_body_bytes={max_body_bytes!r}; expected a positive number")
    if max_concurrent < 1:
        raise ValueError(f"max_concurrent={max_concurrent!r}; expected 1 or more")
    if max_queue < 0:
        raise ValueError(f"max_queue={max_queue!r}; expected 0 or more")
    name = model or DEFAULT_PRETRAINED
    clf = classifier if classifier is not None else EmotionClassifier.load(name)
    slots = asyncio.Semaphore(max_concurrent)
    queue = {"waiting": 0}  # requests waiting for a slot

    app = FastAPI(
        title="emorec",
        version=__version__,
        description="Emotion recognition in faces: the page at / and this REST API.",
        docs_url=None,  # FastAPI's pages load from a CDN: /docs below serves its own files
        redoc_url=None,
    )
    app.add_middleware(
        Guard,
        allowed_hosts=allowed_hosts if allowed_hosts is not None else loopback_hosts(),
        token=token,
        max_body_bytes=max_body_bytes,
    )
    app.state.classifier = clf

    def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = {404: f"no such page: {request.url.path}"}.get(exc.status_code, exc.detail)
        return error(exc.status_code, str(message), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error(422, f"invalid request: {exc.errors()}")

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def page() -> Response:
        return page_file("index.html")

    @app.api_route("/static/{file}", methods=["GET", "HEAD"], include_in_schema=False)
    def page_file(file: str) -> Response:
        if file not in PAGE:
            raise HTTPException(404)
        data = (resources.files(__package__) / "page" / file).read_bytes()
        return Response(data, media_type=PAGE[file], headers=PAGE_HEADERS)

    @app.api_route("/docs", methods=["GET", "HEAD"], include_in_schema=False)
    def docs() -> Response:
        if swagger_ui_folder() is None:
            return error(
                404,
                "the API docs page needs the fastapi-offline package: pip install "
                '"emorec[serve]" (the description itself is at /openapi.json)',
            )
        from fastapi.openapi.docs import get_swagger_ui_html

        html = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="emorec API",
            swagger_js_url="/docs/files/swagger-ui-bundle.js",
            swagger_css_url="/docs/files/swagger-ui.css",
            swagger_favicon_url="/docs/files/favicon.png",
        )
        return Response(html.body, media_type="text/html; charset=utf-8", headers=DOCS_HEADERS)

    @app.api_route("/docs/files/{file}", methods=["GET", "HEAD"], include_in_schema=False)
    def docs_file(file: str) -> Response:
        folder = swagger_ui_folder()
        if folder is None or file not in SWAGGER_FILES:
            raise HTTPException(404)
        data = (folder / file).read_bytes()
        return Response(data, media_type=SWAGGER_FILES[file], headers=DOCS_HEADERS)

    @app.get("/healthz", summary="Whether the server is up")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models", summary="The model served and the bundled models")
    def models() -> dict[str, Any]:
        from ..models.files import list_pretrained

        return {
            "model": name,
            "labels": list(clf.labels),
            "input": {"size": list(clf.input_size), "color_mode": clf.color_mode},
            "bundled": list_pretrained(),
        }

    @app.post(
        "/v1/predict",
        summary="The emotion of every face in an image",
        description=f"The image as the raw body (Content-Type image/*) or as the multipart "
        f"file field {FIELD!r}. No paths or URLs.",
        openapi_extra={"requestBody": PREDICT_BODY},
    )
    async def predict(request: Request) -> Response:
        body = await request.body()
        try:
            data = image_bytes(request.headers.get("content-type"), body)
        except UploadError as exc:
            return error(exc.status, str(exc))
        if slots.locked() and queue["waiting"] >= max_queue:
            return error(
                503,
                f"busy: {max_concurrent} predictions running and {max_queue} waiting; "
                f"retry in {RETRY_AFTER} s",
                {"Retry-After": str(RETRY_AFTER)},
            )
        queue["waiting"] += 1
        try:
            await slots.acquire()
        finally:
            queue["waiting"] -= 1
        try:
            answer = await run_in_threadpool(predict_bytes, clf, data, name)
        except ImageError as exc:
            return error(400, str(exc))
        finally:
            slots.release()
        return JSONResponse(answer)

    return app
