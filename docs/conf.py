"""Sphinx configuration for emorec."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath("../src"))

from emorec import __version__

project = "emorec"
author = "The emorec developers"
copyright = "2026, The emorec developers"
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
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
doctest_global_setup = f"""
import pathlib
import numpy as np
import emorec
from emorec import *
EXAMPLES = pathlib.Path({os.path.join(REPO, "examples")!r})
import os as _os
_emorec_cwd = _os.getcwd()
_os.chdir({REPO!r})
"""
# The pages' examples use paths relative to a clone of the repository, as a reader pastes them
# ("examples/photos/astronaut.jpg"): each group runs in the repository root, then goes back.
doctest_global_cleanup = "_os.chdir(_emorec_cwd)"
# Docstring examples run under `pytest --doctest-modules src/emorec` (nox -s docs), each with
# its module's names in scope; this builder runs the examples of the .rst pages.
doctest_test_doctest_blocks = ""

# The project's build machines are offline: link to other projects' docs only when asked
# (EMOREC_DOCS_INTERSPHINX=1), so that `sphinx-build -W` passes without a network.
TF_INVENTORY = (
    "https://raw.githubusercontent.com/GPflow/tensorflow-intersphinx/master/tf2_py_objects.inv"
)
intersphinx_mapping = (
    {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        # TensorFlow and Keras publish no Sphinx inventory; GPflow maintains one for TF 2.
        "tensorflow": ("https://www.tensorflow.org/api_docs/python", TF_INVENTORY),
    }
    if os.environ.get("EMOREC_DOCS_INTERSPHINX")
    else {}
)

html_theme = "furo"
html_title = f"emorec {release}"
exclude_patterns = ["_build"]
html_static_path = ["_static"]
