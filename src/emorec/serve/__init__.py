"""``emorec serve``: a local web page and REST API over one classifier
(``pip install "emorec[serve]"``).

:func:`create_app` builds the FastAPI application; :mod:`emorec.serve.guard` holds the host,
token and body-size checks; :mod:`emorec.serve.uploads` takes the image out of a request
body. Importing this package does not import FastAPI.

Examples
--------
>>> from emorec.serve import DEFAULT_MAX_BODY_BYTES
>>> DEFAULT_MAX_BODY_BYTES // 2**20
20
"""

from __future__ import annotations

from .app import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONCURRENT,
    DEFAULT_MAX_QUEUE,
    create_app,
    predict_bytes,
)

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_CONCURRENT",
    "DEFAULT_MAX_QUEUE",
    "create_app",
    "predict_bytes",
]
