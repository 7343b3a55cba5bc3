"""What an upload to ``POST /v1/predict`` holds: the image's bytes, taken from the request
body in memory (never a file on disk, never a path or a URL).

A body is either the raw image (``Content-Type: image/*`` or ``application/octet-stream``)
or ``multipart/form-data`` with one file field named ``image``. The multipart body is parsed
by ``python-multipart``'s streaming parser into memory, with a cap on the number of parts;
Starlette's own form parser is not used because it spools files over 1 MB to disk.

Examples
--------
>>> from emorec.serve.uploads import image_bytes
>>> image_bytes("image/png", b"\\x89PNG...")
b'\\x89PNG...'
>>> body = (b"--xx\\r\\nContent-Disposition: form-data; name=\\"image\\"\\r\\n"
...         b"Content-Type: image/png\\r\\n\\r\\nDATA\\r\\n--xx--\\r\\n")
>>> image_bytes("multipart/form-data; boundary=xx", body)
b'DATA'
"""

from __future__ import annotations

from typing import Any

__all__ = ["FIELD", "MAX_PARTS", "UploadError", "image_bytes"]

#: The multipart field that carries the image.
FIELD = "image"

#: The most parts a multipart body may have.
MAX_PARTS = 8

RAW_TYPES = ("application/octet-stream",)


class UploadError(ValueError):
    """A request body that holds no image the server can take; ``status`` is the HTTP status
    to answer with (400, 415)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def image_bytes(content_type: str | None, body: bytes) -> bytes:
    """The image in a request body.

    Parameters
    ----------
    content_type : str or None
        The request's ``Content-Type`` header.
    body : bytes
        The whole body (already read within the size limit).

    Raises
    ------
    UploadError
        415 for a content type that is not an image, octet stream or multipart form; 400 for
        an empty body, a malformed form, too many parts or no ``image`` field.
    """
    from python_multipart.multipart import parse_options_header

    kind, options = parse_options_header(content_type or "")
    media = kind.decode("latin-1").lower()
    if media == "multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise UploadError(400, "multipart/form-data without a boundary")
        data = _form_image(body, boundary)
    elif media.startswith("image/") or media in RAW_TYPES:
        data = body
    else:
        raise UploadError(
            415,
            f"Content-Type {media or 'missing'!r}; expected an image (image/jpeg, image/png..."
            f"), application/octet-stream, or multipart/form-data with a file field "
            f"{FIELD!r}",
        )
    if not data:
        raise UploadError(400, "empty body: expected the bytes of a JPEG, PNG or other image")
    return data


def _form_image(body: bytes, boundary: bytes) -> bytes:
    """The ``image`` field of a multipart body, parsed in memory."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    parts: list[tuple[dict[bytes, bytes], bytearray]] = []
    field = bytearray()
    value = bytearray()

    def on_part_begin() -> None:
        if len(parts) >= MAX_PARTS:
            raise UploadError(400, f"more than {MAX_PARTS} parts in the form; send one {FIELD!r}")
        parts.append(({}, bytearray()))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1][1].extend(data[start:end])

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])

    def on_header_end() -> None:
        parts[-1][0][bytes(field).lower()] = bytes(value)
        field.clear()
        value.clear()

    callbacks: Any = {  # the parser's own TypedDict where python-multipart is installed
        "on_part_begin": on_part_begin,
        "on_part_data": on_part_data,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except UploadError:
        raise
    except Exception as exc:  # the parser's errors (MultipartParseError and ValueErrors)
        raise UploadError(400, f"malformed multipart/form-data body ({exc})") from None
    for headers, data in parts:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        if options.get(b"name") == FIELD.encode():
            return bytes(data)
    raise UploadError(400, f"the form has no field {FIELD!r}: send the image as {FIELD}=@photo.jpg")
