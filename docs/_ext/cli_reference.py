"""The parser that ``docs/cli.rst``'s ``.. argparse::`` reference documents.

It is ``emorec.cli.build_parser()`` itself, every option and subcommand as the ``emorec``
command has them, with its texts made safe for reStructuredText (which sphinx-argparse renders
them as): ``*``, backquotes and ``|`` are escaped (``'photos/*.jpg'`` is a glob, not the start
of emphasis), and each command's ``example:`` epilog becomes a literal block.

Examples
--------
>>> parser = build_parser()
>>> parser.prog
'emorec'
>>> rst_text("globs ('photos/*.jpg')")
"globs ('photos/\\\\*.jpg')"
>>> rst_text("with --ferplus: keep contempt")
'with ``--ferplus``: keep contempt'
"""

from __future__ import annotations

import argparse
import re

from emorec.cli import build_parser as _emorec_parser

_MARKUP = re.compile(r"([*`|\\])")
_OPTION = re.compile(r"(?<![\w-])(--[a-z][\w-]*)")


def rst_text(text: str) -> str:
    """``text`` with the characters that start inline markup escaped, and its options
    (``--ferplus``) as code (else the page's typography would make ``--`` a dash)."""
    return _OPTION.sub(r"``\1``", _MARKUP.sub(r"\\\1", text))


def _example_block(epilog: str) -> str:
    head, _, body = epilog.partition("\n")
    if head.rstrip(":").strip() != "example" or not body:
        return rst_text(epilog)
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    return "Example::\n\n" + "\n".join(f"   {line}" for line in lines)


def _make_safe(parser: argparse.ArgumentParser) -> None:
    if parser.description:
        parser.description = rst_text(parser.description)
    if parser.epilog:
        parser.epilog = _example_block(parser.epilog)
    for action in parser._actions:
        if action.help and action.help is not argparse.SUPPRESS:
            action.help = rst_text(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.help:
                    choice.help = rst_text(choice.help)
            for child in action.choices.values():
                _make_safe(child)


def build_parser() -> argparse.ArgumentParser:
    """``emorec.cli.build_parser()`` with its texts escaped for reStructuredText."""
    parser = _emorec_parser()
    _make_safe(parser)
    return parser
