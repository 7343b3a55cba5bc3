"""``emorec serve``: the page and REST API of :mod:`emorec.serve` on this machine
(``pip install "emorec[serve]"``).

It binds 127.0.0.1 unless ``--host`` says otherwise; on any other address it warns, and a
token (``--token`` or ``EMOREC_SERVE_TOKEN``) then guards ``/v1``.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from .._optional import require
from ..serve.guard import is_loopback, loopback_hosts

__all__ = ["TOKEN_VARIABLE", "add_serve_parser", "allowed_hosts", "run"]

#: The environment variable that gives the token when ``--token`` is not.
TOKEN_VARIABLE = "EMOREC_SERVE_TOKEN"

log = logging.getLogger("emorec")


def add_serve_parser(sub: Any) -> None:
    """The ``serve`` subcommand and its options."""
    p = sub.add_parser("serve", help="serve a web page and REST API for photos and the webcam")
    p.add_argument("--host", default="127.0.0.1", help="address to bind")
    p.add_argument("--port", type=int, default=8000, help="port to listen on")
    p.add_argument(
        "--token",
        default=None,
        help=f"bearer token every /v1 request must send (default: ${TOKEN_VARIABLE}, else none)",
    )
    p.add_argument("--max-body-mb", type=float, default=20.0, help="largest upload, in MB")
    p.add_argument("--max-concurrent", type=int, default=4, help="predictions running at once")
    p.add_argument(
        "--max-queue", type=int, default=16, help="requests waiting for those; more get 503"
    )
    p.add_argument("--model", default=None, help="bundled model name or model file to serve")
    p.add_argument(
        "--allow-host",
        action="append",
        default=None,
        metavar="NAME",
        help="a Host header name to accept besides the bound address (repeatable; '*' accepts any)",
    )
    p.set_defaults(func=run)


def allowed_hosts(host: str, extra: list[str] | None) -> list[str]:
    """The ``Host`` names the server answers to: the loopback names on a loopback address,
    the address itself otherwise (any name on ``0.0.0.0`` or ``::``), plus ``extra``.

    Examples
    --------
    >>> from emorec.cli.serve import allowed_hosts
    >>> allowed_hosts("127.0.0.1", None)
    ['127.0.0.1', 'localhost', '::1']
    >>> allowed_hosts("192.168.1.5", ["box.lan"])
    ['192.168.1.5', 'box.lan']
    """
    if is_loopback(host):
        names = loopback_hosts()
    elif host in ("0.0.0.0", "::", ""):
        names = ["*"]
    else:
        names = [host]
    return names + [n for n in extra or [] if n not in names]


def run(args: argparse.Namespace) -> int:
    """Load the model once and serve until interrupted."""
    uvicorn = require("uvicorn", "emorec serve")
    require("fastapi", "emorec serve")
    require("python_multipart", "emorec serve")
    from ..serve import create_app

    if args.max_body_mb <= 0:
        raise ValueError(f"--max-body-mb {args.max_body_mb}; expected a positive number")
    token = args.token or os.environ.get(TOKEN_VARIABLE) or None
    if not is_loopback(args.host):
        log.warning(
            "emorec serve: listening on %s, reachable from other machines%s",
            args.host,
            "" if token else f"; anyone can use it (set --token or ${TOKEN_VARIABLE})",
        )
    app = create_app(
        model=args.model,
        token=token,
        max_body_bytes=int(args.max_body_mb * 1024 * 1024),
        max_concurrent=args.max_concurrent,
        max_queue=args.max_queue,
        allowed_hosts=allowed_hosts(args.host, args.allow_host),
    )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    log.info("emorec serve: http://%s:%d/ (Ctrl+C stops it)", shown, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", server_header=False)
    return 0
