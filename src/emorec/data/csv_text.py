"""CSV text as FER2013's files hold it, split into fields line by line.

:func:`csv_lines` is what the readers of ``fer2013.csv`` (:mod:`emorec.data.fer_csv`) and of
FER+'s ``fer2013new.csv`` (:mod:`emorec.data.ferplus`) share: UTF-8 with or without Excel's
byte-order mark, each line decoded on its own, and no field size limit. Lines end in LF,
CR LF or a lone CR (old Mac files): :func:`byte_lines` splits a binary file at any of them.

Examples
--------
>>> from pathlib import Path
>>> from emorec.data.csv_text import csv_lines
>>> list(csv_lines([b"a,b", b'1,"x,y"'], Path("t.csv")))
[(1, ['a', 'b']), (2, ['1', 'x,y'])]
>>> import io
>>> list(csv_lines(io.BytesIO(b"a,b\\r1,2\\r"), Path("t.csv")))
[(1, ['a', 'b']), (2, ['1', '2'])]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

__all__ = ["byte_lines", "csv_lines"]

_CHUNK = 1 << 20


def byte_lines(fh: IO[bytes]) -> Iterator[bytes]:
    r"""The lines of a binary file, each with its end, which may be LF, CR LF or a lone CR
    (iterating a binary file splits at LF only, so a file of CR-ended lines is one line).

    Examples
    --------
    >>> import io
    >>> from emorec.data.csv_text import byte_lines
    >>> list(byte_lines(io.BytesIO(b"a\rb\r\nc\nd")))
    [b'a\r', b'b\r\n', b'c\n', b'd']
    """
    pending: list[bytes] = []  # the start of a line that goes on in the next chunk
    while chunk := fh.read(_CHUNK):
        if b"\n" not in chunk and b"\r" not in chunk:
            pending.append(chunk)  # joined once, when the line ends: a long line stays O(n)
            continue
        lines = b"".join([*pending, chunk]).splitlines(keepends=True)
        # The last line may go on in the next chunk (a CR may be the first half of CR LF).
        pending = [] if lines[-1].endswith(b"\n") else [lines.pop()]
        yield from lines
    if pending:
        yield from b"".join(pending).splitlines(keepends=True)


def csv_lines(fh: IO[bytes] | Iterable[bytes], path: Path) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of a CSV file read as bytes (a binary file, split by
    :func:`byte_lines`, or lines): UTF-8 with or without Excel's byte-order mark, each line
    decoded on its own (so an error names the line), and no field size limit (the csv
    module's 128 KiB is the pixels of a 180x180 image, and emorec leaves that process-wide
    setting alone): a line is split at its commas, quoted fields as RFC 4180 has them."""
    lines: Iterable[bytes] = byte_lines(fh) if hasattr(fh, "read") else fh  # type: ignore[arg-type]
    for number, raw in enumerate(lines, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{path}:{number}: not UTF-8 text ({exc.reason} at column {exc.start + 1}); "
                "save the file as UTF-8 (or plain ASCII) CSV"
            ) from None
        if '"' not in text:
            yield number, text.split(",") if text else []
        else:
            yield number, _split_quoted(text, path, number)


def _split_quoted(text: str, path: Path, number: int) -> list[str]:
    """The fields of one CSV line with quoted fields (RFC 4180: ``""`` is a quote)."""
    fields, field, i, quoted = [], [], 0, False
    while i < len(text):
        char = text[i]
        if quoted:
            if char == '"' and text[i + 1 : i + 2] == '"':
                field.append('"')
                i += 1
            elif char == '"':
                quoted = False
            else:
                field.append(char)
        elif char == '"' and not field:
            quoted = True
        elif char == ",":
            fields.append("".join(field))
            field = []
        else:
            field.append(char)
        i += 1
    if quoted:
        raise ValueError(f"{path}:{number}: a quoted field is not closed on its line")
    fields.append("".join(field))
    return fields
