__version__ = "0.1.0.dev0"


def installed_version(dist: str, missing: str = "not installed") -> str:
    """The installed version of distribution ``dist``, or ``missing``."""
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return missing
