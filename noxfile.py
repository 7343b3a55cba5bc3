"""Developer sessions: ``nox -s tests``, ``lint``, ``docs`` and ``faults`` (all run by .ci/run)."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "docs"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (slow tests too with ``nox -s tests -- -m slow``)."""
    session.install(".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def faults(session: nox.Session) -> None:
    """The kill-at-any-moment tests (slow): training subprocesses killed at chosen and random
    moments, each rerun until it finishes, and ``emorec predict`` killed mid-folder and
    mid-video, resumed (tests/test_faults.py)."""
    session.install(".[test]")
    session.run("pytest", "-m", "slow", "tests/test_faults.py", "-p", "no:cacheprovider")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) on everything, mypy on src/, the import contracts."""
    # Lint needs no TensorFlow: mypy treats it as untyped (ignore_missing_imports).
    session.install(
        "ruff>=0.5", "mypy>=1.8", "import-linter>=2.17", "numpy", "pillow", "matplotlib"
    )
    session.install("--no-deps", ".")  # import-linter reads the installed package's imports
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("lint-imports")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the Sphinx docs with warnings as errors; run the pages' and docstrings' examples."""
    session.install(".[docs,test]")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")
    session.run(
        "sphinx-build", "-W", "--keep-going", "-b", "doctest", "docs", "docs/_build/doctest"
    )
    session.run("pytest", "--doctest-modules", "src/emorec", "-p", "no:cacheprovider")
    session.run("pytest", "tests/test_docs.py", "-p", "no:cacheprovider")
