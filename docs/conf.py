"""Sphinx configuration for emorec."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath("../src"))
# This project's own extensions: the model zoo and benchmark tables, the gallery's folder.
sys.path.insert(0, os.path.abspath("_ext"))

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
    "sphinxarg.ext",  # the CLI reference, from emorec.cli.build_parser()
    "sphinx_gallery.gen_gallery",
    "gallery_cwd",
    "model_zoo",
    "benchmark_tables",
]
autosummary_generate = False
# the engines are optional extras: their API pages build without them installed
autodoc_mock_imports = ["apache_beam", "ray"]
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

# The gallery: examples/gallery/plot_*.py, run by every build that finds them changed (their
# outputs are cached beside the generated pages, in docs/gallery/), each code block in the
# repository's root (docs/_ext/gallery_cwd.py) so that its paths read as a reader pastes them.
sphinx_gallery_conf = {
    "examples_dirs": "../examples/gallery",
    "gallery_dirs": "gallery",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_signature": False,
    "reset_modules": ("matplotlib",),
    "write_computation_times": False,
}
gallery_cwd_root = REPO
gallery_cwd_examples = os.path.join(REPO, "examples", "gallery")

html_theme = "furo"
html_title = f"emorec {release}"
exclude_patterns = ["_build"]
html_static_path = ["_static"]
