"""Sphinx configuration for emorec."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath("../src"))

from emorec import __version__  # noqa: E402

project = "emorec"
author = "The emorec developers"
copyright = "2026, The emorec developers"  # noqa: A001
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
]
autosummary_generate = False
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# Docstring examples run with `sphinx-build -b doctest`, each module's names in scope.
doctest_global_setup = """
import numpy as np
import emorec
from emorec import *
"""
doctest_test_doctest_blocks = "default"

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
}
# The build machines are offline: intersphinx inventories are optional.
intersphinx_disabled_reftypes = ["*"]
intersphinx_timeout = 2
nitpicky = False
suppress_warnings = ["intersphinx.external"]

html_theme = "furo"
html_title = f"emorec {release}"
exclude_patterns = ["_build"]
