"""Run the gallery's examples in the repository's root, as a reader pastes them.

sphinx-gallery runs each code block of an example in the example's own folder
(``examples/gallery``) and has no setting for another. The examples, like every page of these
docs, use paths relative to the root of a clone (``examples/photos/astronaut.jpg``), so this
extension points the one ``os.chdir`` sphinx-gallery makes into the gallery folder at the
repository's root instead; every other directory change is left as it is.

Enabled by listing ``gallery_cwd`` after ``sphinx_gallery.gen_gallery`` in ``conf.py``'s
extensions, with ``gallery_cwd_root`` (the repository's root) and ``gallery_cwd_examples``
(the gallery's source folder) set there.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

from sphinx.application import Sphinx


class _RedirectedOs(ModuleType):
    """The ``os`` module as sphinx-gallery's runner sees it: ``chdir(examples)`` goes to
    ``root``; everything else is ``os``'s own."""

    def __init__(self, examples: Path, root: Path) -> None:
        super().__init__("os")
        self._examples = examples.resolve()
        self._root = root.resolve()

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def chdir(self, path: Any) -> None:
        target = Path(path).resolve()
        os.chdir(self._root if target == self._examples else target)


def _redirect(app: Sphinx) -> None:
    from sphinx_gallery import gen_rst

    examples = Path(app.confdir, app.config.gallery_cwd_examples)
    gen_rst.os = _RedirectedOs(examples, Path(app.confdir, app.config.gallery_cwd_root))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("gallery_cwd_root", "..", "env")
    app.add_config_value("gallery_cwd_examples", "../examples/gallery", "env")
    # before sphinx-gallery's own builder-inited handler (priority 500) runs the examples
    app.connect("builder-inited", _redirect, priority=100)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
