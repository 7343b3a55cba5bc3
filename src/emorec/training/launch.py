"""Who a process is in a run across processes: :class:`LaunchSettings`.

A launcher (plain processes, Slurm, MPI, Kubernetes) starts the processes of a run and tells
each one the coordinator's address, how many they are and its own index: in Keras's environment
variables (:data:`ENV_ADDRESSES`, :data:`ENV_COUNT`, :data:`ENV_ID`), or on the command line
(``emorec train --coordinator --num-processes --process-id``). Reading them imports neither
Keras nor JAX; :func:`emorec.training.distributed.initialize` joins the run with them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ENV_ADDRESSES", "ENV_COUNT", "ENV_ID", "LaunchSettings", "requested"]

#: Keras's variable with the coordinator's ``HOST:PORT`` (or every process's, comma-separated).
ENV_ADDRESSES = "KERAS_DISTRIBUTION_JOB_ADDRESSES"
#: Keras's variable with the number of processes.
ENV_COUNT = "KERAS_DISTRIBUTION_NUM_PROCESSES"
#: Keras's variable with this process's index, 0 to N - 1 (0 is the coordinator).
ENV_ID = "KERAS_DISTRIBUTION_PROCESS_ID"


@dataclass(frozen=True)
class LaunchSettings:
    """Who this process is in a run across processes; None leaves it to JAX to detect.

    Parameters
    ----------
    coordinator : str, optional
        ``HOST:PORT`` of process 0, which every process can reach (or all the processes'
        addresses, comma-separated: the first is the coordinator).
    num_processes : int, optional
        How many processes train together.
    process_id : int, optional
        This process's index, ``0 <= process_id < num_processes``.

    Raises
    ------
    ValueError
        If a value is malformed or out of range (the message names it).

    Examples
    --------
    >>> from emorec.training.launch import LaunchSettings
    >>> LaunchSettings("127.0.0.1:8476", 2, 0).environment()["KERAS_DISTRIBUTION_PROCESS_ID"]
    '0'
    >>> LaunchSettings("127.0.0.1:8476", 2, 2)
    Traceback (most recent call last):
    ...
    ValueError: process id 2 with 2 processes; expected 0 to 1 (0 is the coordinator)
    """

    coordinator: str | None = None
    num_processes: int | None = None
    process_id: int | None = None

    def __post_init__(self) -> None:
        if self.coordinator is not None:
            for address in self.coordinator.split(","):
                host, sep, port = address.strip().rpartition(":")
                if not (sep and host and port.isdigit() and 0 < int(port) < 65536):
                    raise ValueError(
                        f"coordinator address {address!r}; expected HOST:PORT, for example "
                        "10.0.0.1:8476 (process 0's host and a free port)"
                    )
        count, index = self.num_processes, self.process_id
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError(f"{count!r} processes; expected a positive integer")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"process id {index!r}; expected an integer from 0")
        if count is not None and index is not None and index >= count:
            raise ValueError(
                f"process id {index} with {count} processes; expected 0 to {count - 1} "
                "(0 is the coordinator)"
            )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> LaunchSettings:
        """The settings in Keras's environment variables (:data:`ENV_ADDRESSES`,
        :data:`ENV_COUNT`, :data:`ENV_ID`); the ones not set are None.

        Examples
        --------
        >>> from emorec.training.launch import LaunchSettings
        >>> LaunchSettings.from_environment({"KERAS_DISTRIBUTION_NUM_PROCESSES": "4"})
        LaunchSettings(coordinator=None, num_processes=4, process_id=None)
        """
        env = os.environ if environ is None else environ

        def number(name: str) -> int | None:
            text = env.get(name, "").strip()
            if not text:
                return None
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"{name}={text!r}; expected an integer") from None

        coordinator = env.get(ENV_ADDRESSES, "").strip() or None
        return cls(coordinator, number(ENV_COUNT), number(ENV_ID))

    def merged(self, **given: Any) -> LaunchSettings:
        """These settings with the ``given`` ones that are not None in their place (the
        command line's ``--coordinator`` and friends override the environment).

        Examples
        --------
        >>> from emorec.training.launch import LaunchSettings
        >>> LaunchSettings("10.0.0.1:8476", 4).merged(process_id=2, num_processes=None)
        LaunchSettings(coordinator='10.0.0.1:8476', num_processes=4, process_id=2)
        """
        values: dict[str, Any] = {
            "coordinator": self.coordinator,
            "num_processes": self.num_processes,
            "process_id": self.process_id,
        }
        values.update({k: v for k, v in given.items() if v is not None})
        return LaunchSettings(**values)

    def environment(self) -> dict[str, str]:
        """Keras's environment variables for these settings (the ones that are set)."""
        pairs: tuple[tuple[str, str | int | None], ...] = (
            (ENV_ADDRESSES, self.coordinator),
            (ENV_COUNT, self.num_processes),
            (ENV_ID, self.process_id),
        )
        return {name: str(value) for name, value in pairs if value is not None}


def requested(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for a run across processes (:data:`ENV_COUNT` set).

    Examples
    --------
    >>> from emorec.training.launch import requested
    >>> requested({"KERAS_DISTRIBUTION_NUM_PROCESSES": "4"}), requested({})
    (True, False)
    """
    env = os.environ if environ is None else environ
    return bool(env.get(ENV_COUNT, "").strip())
