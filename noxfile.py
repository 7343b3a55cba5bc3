"""Developer sessions: ``nox -s tests``, ``lint``, ``docs``, ``faults``, ``tests-oldest``,
``tests-latest``, ``tests-scaling`` and ``build`` (all but ``tests`` and ``tests-latest`` run
by .ci/run)."""

from __future__ import annotations

from pathlib import Path

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


@nox.session(name="tests-scaling")
def tests_scaling(session: nox.Session) -> None:
    """Scaling out, in a venv of its own (Beam pins protobuf, pyarrow and python-dateutil below
    what the rest of the test extras resolve to): the Apache Beam and Ray Data tests, and the
    two-process training tests on JAX (slow). A missing engine fails here instead of
    skipping."""
    session.install(".[test,beam,ray,distributed]")
    env = {"EMOREC_REQUIRE_ENGINES": "1"}
    engines = ["tests/test_engines_beam.py", "tests/test_engines_ray.py"]
    session.run("pytest", *engines, "-p", "no:cacheprovider", *session.posargs, env=env)
    session.run(
        "pytest",
        "tests/test_distributed.py",
        "-m",
        "slow or not slow",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env=env,
    )


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


# The dependency range, tested at both ends: ``uv pip compile`` resolves pyproject's
# requirements with the lowest versions its floors allow (``--resolution lowest-direct``: every
# direct requirement at its floor, what they pull in at the newest that fits) or the highest,
# into a lock file; the session installs exactly that file and emorec itself with ``--no-deps``.
LOCKED_EXTRAS = ("train", "video", "serve", "test")


def _install_locked(session: nox.Session, resolution: str) -> None:
    session.install("uv")
    lock = Path(session.create_tmp()) / f"requirements-{resolution}.txt"
    extras = [arg for extra in LOCKED_EXTRAS for arg in ("--extra", extra)]
    python = session.virtualenv.location  # resolve for, and install into, the session's Python
    session.run(
        "uv", "pip", "compile", "pyproject.toml", *extras, f"--resolution={resolution}",
        "--python", python, "--quiet", "-o", str(lock),
    )  # fmt: skip
    session.run("uv", "pip", "install", "--python", python, "-r", str(lock))
    session.run("uv", "pip", "install", "--python", python, "--no-deps", ".")
    session.run("uv", "pip", "freeze", "--python", python)  # the versions tested, in the log


@nox.session(name="tests-oldest")
def tests_oldest(session: nox.Session) -> None:
    """The smoke tests (``-m smoke``) on the oldest versions pyproject allows (its floors).

    The lowest direct versions of the core, ``train``, ``video`` and ``test`` requirements are
    resolved into a lock file and installed; then the fast tests marked ``smoke`` run: the
    core prediction path, reading data, a short training, export, the Haar detector.
    Extra pytest arguments follow ``--``.
    """
    _install_locked(session, "lowest-direct")
    session.run("pytest", "-m", "smoke", "-p", "no:cacheprovider", *session.posargs)


@nox.session(name="tests-latest")
def tests_latest(session: nox.Session) -> None:
    """The smoke tests on the newest versions pyproject allows, from a lock file like
    ``tests-oldest``'s. The full suite on the newest versions is CI's main step (the README's
    ``pip install ".[test]" && pytest``, which resolves to the newest), so this session is the
    quick check between releases; ``nox -s tests-latest -- -m "not slow"`` runs everything.
    """
    _install_locked(session, "highest")
    session.run("pytest", "-m", "smoke", "-p", "no:cacheprovider", *session.posargs)


# What the wheel must carry: the bundled models and the face detectors' data files.
WHEEL_MUST_HOLD = ("emorec/weights/*.keras", "emorec/weights/*.tflite", "emorec/faces/data/*")


@nox.session
def build(session: nox.Session) -> None:
    """Build the sdist and the wheel, ``twine check`` them, then use each as a user would.

    The wheel must hold the bundled models and the detectors' data; installed alone into a
    fresh virtualenv, it predicts the bundled example photo. The sdist must hold tests/ and
    examples/; installed with its ``test`` extra into another fresh virtualenv, the smoke tests
    of its own unpacked tests/ pass (the full suite is CI's main step). The files are left in
    ``dist/``.
    """
    import fnmatch
    import glob
    import shutil
    import tarfile
    import zipfile

    session.install("build", "twine")
    root = Path.cwd()
    tmp = Path(session.create_tmp()).resolve()
    dist = root / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    with session.chdir(tmp):  # not the checkout: its build/ folder would shadow the package
        session.run("python", "-m", "build", "--outdir", str(dist), str(root))
    (wheel,) = glob.glob(str(dist / "emorec-*.whl"))
    (sdist,) = glob.glob(str(dist / "emorec-*.tar.gz"))
    session.run("twine", "check", "--strict", wheel, sdist)

    names = zipfile.ZipFile(wheel).namelist()
    missing = [pattern for pattern in WHEEL_MUST_HOLD if not fnmatch.filter(names, pattern)]
    if missing:
        session.error(f"{wheel} holds no {missing}; see [tool.setuptools.package-data]")
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        held = set(archive.getnames())
        # The tests need their conftest.py and the examples they read.
        for need in ("tests/conftest.py", "tests/test_light_install.py", "examples/photos"):
            if f"{top}/{need}" not in held:
                session.error(
                    f"{sdist} holds no {need}; MANIFEST.in needs 'graft tests' and 'graft examples'"
                )
        archive.extractall(tmp, filter="data")

    def fresh_venv(name: str) -> Path:
        shutil.rmtree(tmp / name, ignore_errors=True)
        session.run("python", "-m", "venv", str(tmp / name))
        return tmp / name / "bin"

    photo = root / "examples" / "photos" / "astronaut.jpg"
    bin_ = fresh_venv("wheel-venv")
    session.run(str(bin_ / "pip"), "install", "-q", wheel, external=True)
    with session.chdir(tmp):  # imports the installed emorec, not src/
        session.run(str(bin_ / "emorec"), "predict", str(photo), external=True)

    bin_ = fresh_venv("sdist-venv")
    # --no-cache-dir: pip would otherwise reuse the wheel it built from an earlier sdist at
    # the same path and version (a stale emorec, seen when the session ran twice)
    session.run(
        str(bin_ / "pip"),
        "install",
        "-q",
        "--no-cache-dir",
        f"emorec[test] @ file://{sdist}",
        external=True,
    )
    with session.chdir(tmp / top):
        shutil.rmtree("src", ignore_errors=True)  # the tests import the installed emorec
        session.run(str(bin_ / "pytest"), "-m", "smoke", "-p", "no:cacheprovider", external=True)
