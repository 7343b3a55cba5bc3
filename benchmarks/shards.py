"""Datasets larger than memory: FER2013 fed from memory against from TFRecord shards, and a
synthetic shard folder of 1,000,000 images streamed in flat memory.

    python benchmarks/shards.py [--tar PATH] [--shards 8] [--train] [--million 1000000]
        [--out benchmarks/results/shards.txt]

1. FER2013 (the challenge's ``fer2013.tar.gz``, read with ``EmotionDataset.from_csv``) is
   written with ``to_shards`` into a temporary folder (deleted at the end; nothing is kept).
2. Each way of feeding runs in a fresh Python process, so that neither shares the other's memory:
   ``memory`` reads the CSV and iterates ``to_tf("train", 128, augment=True, shuffle=True)``;
   ``shards`` opens the folder with ``from_shards`` (SHA-256 checked) and iterates the same.
   Two passes each (the first traces the pipeline); no model, unless ``--train`` adds one
   training epoch of ``mini_xception`` fed the same way. Memory is the process's resident set
   (``VmRSS``) after loading and its peak during the passes (``VmHWM``, reset after loading
   where Linux allows it), and the peak of the whole process.
3. ``--million N`` (default 1,000,000; 0 skips it): a ``ShardWriter`` writes N synthetic grey
   8x8 faces (1,000 distinct random images, cycled, with labels over 7 classes) into 10,000-image
   shards, N real records, in a process of its own; another process opens the folder and streams
   every record once through ``to_tf`` (batch 1,024, shuffled, no augmentation), printing its
   resident memory every tenth of the way.

Figures are from one run each; the machine line says how busy it was (a training run may share
the CPU), so compare the ratios within one run rather than absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from _machine import FER2013_TAR, describe_machine

HERE = Path(__file__).resolve().parent


def rss_mib() -> float:
    """This process's resident memory now, MiB."""
    return _status("VmRSS")


def _status(key: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> bool:
    """Reset ``VmHWM`` (the peak resident memory) to the current size, where Linux allows."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def process_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_pass(data) -> tuple[float, int]:
    start, n = time.perf_counter(), 0
    for x, _ in data:
        n += int(x.shape[0])
    return time.perf_counter() - start, n


# ------------------------------------------------------------------------------ children
def child_write(args: argparse.Namespace) -> dict:
    from emorec import EmotionDataset

    start = time.perf_counter()
    ds = EmotionDataset.from_csv(args.tar)
    read = time.perf_counter() - start
    start = time.perf_counter()
    ds.to_shards(args.dir, shards=args.shards)
    wrote = time.perf_counter() - start
    size = sum(f.stat().st_size for f in Path(args.dir).iterdir())
    return {"read_s": read, "write_s": wrote, "images": len(ds), "bytes": size}


def child_feed(args: argparse.Namespace) -> dict:
    from emorec import EmotionDataset

    base = rss_mib()
    start = time.perf_counter()
    if args.child == "memory":
        ds = EmotionDataset.from_csv(args.tar)
    else:
        ds = EmotionDataset.from_shards(args.dir)
    load = time.perf_counter() - start
    loaded = rss_mib()
    reset = reset_peak()
    out = {"load_s": load, "rss_start": base, "rss_loaded": loaded, "peak_reset": reset}
    data = ds.to_tf("train", 128, augment=True, shuffle=True, seed=0)
    out["pass1_s"], out["images"] = one_pass(data)
    out["pass2_s"], _ = one_pass(data)
    out["rss_after"] = rss_mib()
    out["peak_passes"] = _status("VmHWM")
    if args.train:
        from emorec.models import build_model

        model = build_model("mini_xception", num_classes=7, input_shape=(48, 48, 1))
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        start = time.perf_counter()
        model.fit(data, epochs=1, verbose=0)
        out["train_epoch_s"] = time.perf_counter() - start
        out["rss_after_train"] = rss_mib()
    out["peak_process"] = process_peak_mib()
    return out


def child_million_write(args: argparse.Namespace) -> dict:
    import numpy as np

    from emorec.data.shard_writer import ShardWriter

    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (1000, 8, 8, 1), dtype=np.uint8)
    labels = rng.integers(0, 7, args.million)
    marks = []
    start = time.perf_counter()
    names = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    with ShardWriter(args.dir, names, records_per_shard=10_000) as writer:
        for i in range(args.million):
            writer.add("train", faces[i % 1000], int(labels[i]), source=f"synthetic/{i}")
            if (i + 1) % (args.million // 5) == 0:
                marks.append((i + 1, round(rss_mib())))
    took = time.perf_counter() - start
    size = sum(f.stat().st_size for f in Path(args.dir).iterdir())
    return {"write_s": took, "bytes": size, "rss_marks": marks, "files": len(os.listdir(args.dir))}


def child_million_read(args: argparse.Namespace) -> dict:
    from emorec import EmotionDataset

    base = rss_mib()
    start = time.perf_counter()
    ds = EmotionDataset.from_shards(args.dir)
    opened = time.perf_counter() - start
    out = {"open_s": opened, "rss_start": base, "rss_opened": rss_mib()}
    data = ds.to_tf("train", 1024, shuffle=True, seed=0)
    marks, n, step = [], 0, max(1, len(ds) // 10)
    start = time.perf_counter()
    for x, _ in data:
        before = n
        n += int(x.shape[0])
        if n // step != before // step:
            marks.append((n, round(time.perf_counter() - start, 1), round(rss_mib())))
    out.update(images=n, stream_s=time.perf_counter() - start, marks=marks)
    out["peak_process"] = process_peak_mib()
    return out


CHILDREN = {
    "write": child_write,
    "memory": child_feed,
    "shards": child_feed,
    "million-write": child_million_write,
    "million-read": child_million_read,
}


def run_child(kind: str, args: argparse.Namespace, directory: str) -> dict:
    command = [sys.executable, __file__, "--child", kind, "--dir", directory]
    command += ["--tar", str(args.tar), "--shards", str(args.shards)]
    command += ["--million", str(args.million)] + (["--train"] if args.train else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ report
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tar", type=Path, default=FER2013_TAR)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--million", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "shards.txt")
    parser.add_argument("--child", choices=sorted(CHILDREN))
    parser.add_argument("--dir")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return
    if not args.tar.exists():
        sys.exit(f"{args.tar}: not found; pass the path of FER2013's fer2013.tar.gz with --tar")
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    say("benchmarks/shards.py: FER2013 from memory against from TFRecord shards")
    say(describe_machine())
    say(
        "note: a long training run (emorec train, niced) shares this CPU; figures are from one "
        "run each, so compare ratios within this run"
    )
    with tempfile.TemporaryDirectory(prefix="emorec-shards-") as tmp:
        folder = os.path.join(tmp, "fer2013")
        w = run_child("write", args, folder)
        say()
        say(
            f"to_shards: {w['images']:,} images into {args.shards} shards a split in "
            f"{w['write_s']:.1f} s ({w['images'] / w['write_s']:,.0f} img/s; from_csv read took "
            f"{w['read_s']:.1f} s); {w['bytes'] / 2**20:.1f} MiB on disk"
        )
        say()
        say("one pass over train (to_tf, batch 128, default augmentation, shuffled, seed 0):")
        say(
            f"{'feed':8} {'load s':>7} {'pass 1 s':>9} {'pass 2 s':>9} {'img/s':>7} "
            f"{'RSS loaded':>11} {'peak in passes':>15} {'process peak':>13}"
            + ("  train epoch s" if args.train else "")
        )
        results = {}
        for kind in ("memory", "shards"):
            r = results[kind] = run_child(kind, args, folder)
            rate = r["images"] / r["pass2_s"]
            peak = f"{r['peak_passes']:,.0f} MiB" + ("" if r["peak_reset"] else "*")
            say(
                f"{kind:8} {r['load_s']:7.1f} {r['pass1_s']:9.1f} {r['pass2_s']:9.1f} "
                f"{rate:7,.0f} {r['rss_loaded']:8,.0f} MiB {peak:>15} "
                f"{r['peak_process']:9,.0f} MiB"
                + (f"  {r['train_epoch_s']:13.1f}" if args.train else "")
            )
        m, s = results["memory"], results["shards"]
        say(
            f"shards/memory: pass 2 time x{s['pass2_s'] / m['pass2_s']:.2f}, RSS after loading "
            f"x{s['rss_loaded'] / m['rss_loaded']:.2f}, process peak "
            f"x{s['peak_process'] / m['peak_process']:.2f} ({m['images']:,} images a pass)"
        )
        if not (m["peak_reset"] and s["peak_reset"]):
            say("* the peak could not be reset after loading: it includes the load")
    if args.million:
        with tempfile.TemporaryDirectory(prefix="emorec-million-") as tmp:
            folder = os.path.join(tmp, "million")
            w = run_child("million-write", args, folder)
            say()
            say(
                f"synthetic: ShardWriter wrote {args.million:,} real records (8x8 grey, 1,000 "
                f"distinct images cycled) into {w['files'] - 2} shards in {w['write_s']:.0f} s "
                f"({args.million / w['write_s']:,.0f} img/s), {w['bytes'] / 2**20:,.0f} MiB; "
                "writer RSS at each fifth: "
                + ", ".join(f"{n:,}: {mib} MiB" for n, mib in w["rss_marks"])
            )
            r = run_child("million-read", args, folder)
            say(
                f"from_shards opened it in {r['open_s']:.1f} s (SHA-256 of every file); RSS "
                f"{r['rss_start']:,.0f} MiB before, {r['rss_opened']:,.0f} MiB after opening"
            )
            say(
                f"to_tf streamed {r['images']:,} images (batch 1,024, shuffled) in "
                f"{r['stream_s']:.0f} s ({r['images'] / r['stream_s']:,.0f} img/s); RSS as it went:"
            )
            for n, t, mib in r["marks"]:
                say(f"  {n:>9,} images  {t:6.1f} s  {mib:6,} MiB")
            say(f"process peak {r['peak_process']:,.0f} MiB")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
