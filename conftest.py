"""The examples in emorec's docstrings (``pytest --doctest-modules src/emorec``, run by
``nox -s docs``) that need an optional package skip, naming the extra, where it is absent."""

from __future__ import annotations

import importlib.util

import pytest

#: Doctest (its pytest item name) -> the module it needs and the extra that installs it.
NEEDS = {
    "emorec.results.arrow_schema": ("pyarrow", "tables"),
    "emorec.ray": ("pyarrow", "tables"),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        need = NEEDS.get(item.name)
        if need and importlib.util.find_spec(need[0]) is None:
            item.add_marker(
                pytest.mark.skip(reason=f'needs {need[0]}: pip install "emorec[{need[1]}]"')
            )
