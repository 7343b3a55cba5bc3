"""Time and memory to read FER2013 (the shared ``fer2013.zip``) into an EmotionDataset.

    python benchmarks/data_loading.py [PATH_TO_fer2013.zip]

Prints the wall time, images per second, and the peak extra memory (max RSS growth) of the
read, then the same for reading the written ``fer2013.csv`` back. Target: at most 30 s and
1 GiB extra on 2 cores.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from _machine import FER2013_ZIP, describe_machine

from emorec import EmotionDataset


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else FER2013_ZIP
    if not path.exists():
        sys.exit(f"{path}: not found; pass the path of FER2013's fer2013.zip")
    print(describe_machine())
    before = peak_rss_mib()
    start = time.perf_counter()
    ds = EmotionDataset.from_directory(path)
    took = time.perf_counter() - start
    extra = peak_rss_mib() - before
    print(
        f"from_directory({path.name}): {len(ds):,} images in {took:.1f} s "
        f"({len(ds) / took:,.0f} img/s); peak extra memory {extra:,.0f} MiB"
    )
    print(ds.summary())
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        csv = ds.to_csv(Path(tmp) / "fer2013.csv")
        wrote = time.perf_counter() - start
        start = time.perf_counter()
        back = EmotionDataset.from_csv(csv)
        read = time.perf_counter() - start
    print(
        f"to_csv: {wrote:.1f} s; from_csv: {len(back):,} rows in {read:.1f} s "
        f"({len(back) / read:,.0f} rows/s)"
    )


if __name__ == "__main__":
    main()
