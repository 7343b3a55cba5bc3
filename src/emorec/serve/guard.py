"""The server's guard: what every request passes before a route sees it.

:class:`Guard` is a plain ASGI middleware that checks, in order: the ``Host`` header against
the names the server answers to (against DNS rebinding: a page on another site that resolves
its own name to 127.0.0.1 sends its own name as the host); the bearer token on ``/v1`` when
one is set (compared with :func:`hmac.compare_digest`); and the size of the request body,
counted while it is read (a declared ``Content-Length`` over the limit is refused at once, a
chunked body when it passes the limit). Every refusal is a JSON body ``{"error": "..."}``.

Examples
--------
>>> from emorec.serve.guard import host_allowed, loopback_hosts
>>> host_allowed("localhost:8000", loopback_hosts())
True
>>> host_allowed("evil.example:8000", loopback_hosts())
False
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

__all__ = ["BodyTooLarge", "Guard", "host_allowed", "is_loopback", "loopback_hosts"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    """The request body passed the server's limit while it was read."""


def loopback_hosts() -> list[str]:
    """The names a server bound to a loopback address answers to."""
    return ["127.0.0.1", "localhost", "::1"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is this machine only.

    Examples
    --------
    >>> from emorec.serve.guard import is_loopback
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_allowed(header: str, allowed: Iterable[str]) -> bool:
    """Whether a ``Host`` header (``name[:port]``, ``[v6]:port``) names an allowed host;
    ``"*"`` in ``allowed`` allows any."""
    allowed = [a.lower().strip("[]") for a in allowed]
    if "*" in allowed:
        return True
    header = header.strip().lower()
    if header.startswith("["):  # [::1]:8000
        name = header[1 : header.find("]")] if "]" in header else header
    else:
        name = header.rsplit(":", 1)[0] if header.count(":") == 1 else header
    return bool(name) and name in allowed


class Guard:
    """ASGI middleware: the host check, the token on ``/v1`` and the body limit.

    Parameters
    ----------
    app : ASGI application
        What the request goes to once it passes.
    allowed_hosts : list of str
        Host names the server answers to (``"*"``: any).
    token : str or None
        The bearer token ``/v1`` requires (None: none).
    max_body_bytes : int
        The largest request body accepted.
    """

    def __init__(
        self, app: ASGIApp, *, allowed_hosts: list[str], token: str | None, max_body_bytes: int
    ) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.token = token.encode() if token else None
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        host = headers.get("host", b"").decode("latin-1")
        if not host_allowed(host, self.allowed_hosts):
            await _refuse(send, 400, f"host {host!r} is not served here (DNS rebinding guard)")
            return
        if self.token is not None and scope["path"].startswith("/v1"):
            given = headers.get("authorization", b"")
            if not hmac.compare_digest(given, b"Bearer " + self.token):
                await _refuse(
                    send,
                    401,
                    "missing or wrong token: send the header 'Authorization: Bearer <token>'",
                    {"www-authenticate": "Bearer"},
                )
                return
        declared = headers.get("content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _refuse(send, 400, f"Content-Length {declared.decode('latin-1')!r}")
                return
            if size > self.max_body_bytes:
                await _refuse(send, 413, self._too_large(size))
                return
        await self._limited(scope, receive, send)

    def _too_large(self, size: int | None = None) -> str:
        what = f"{size} bytes" if size is not None else "the request body"
        return f"{what} is over the server's limit of {self.max_body_bytes} bytes (--max-body-mb)"

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(send, 413, self._too_large())


async def _refuse(send: Send, status: int, error: str, extra: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": error}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
