"""A bounded load test of ``emorec serve`` on 127.0.0.1: throughput, latency, errors, memory.

    python benchmarks/serve_load.py [--requests 1000] [--clients 1 4 16] [--photo PATH]
                                    [--max-concurrent 4] [--max-queue 16] [--model NAME]
                                    [--batch]

Starts ``emorec serve`` in a subprocess on a free port of 127.0.0.1 (never another address),
waits for ``/healthz``, then for each number of clients sends ``--requests`` requests of
``POST /v1/predict`` (the photo as the raw body; default ``examples/photos/astronaut.jpg``,
one face, 512x512) from that many threads, each with its own keep-alive ``http.client``
connection. Prints, per client count, the throughput (requests a second), the p50/p90/p99
latency, the errors (any status but 200, or a failed connection) and the server's resident
memory (``VmRSS`` of ``/proc/<pid>/status``) before and after, after one warm-up request.
The machine and its load come first (``benchmarks/_machine.py``).

``--batch`` then measures, in this process once the server has stopped, whether batching
concurrent requests into one model call would pay: the model stage
(:meth:`~emorec.EmotionClassifier.classify`) on 4 and 16 prepared photos in one call against
as many calls of one, and ``EmotionClassifier.predict`` on the photo one a call and 16 a call
(the issue's yardstick: the server at 16 clients within 30 % of batched ``predict``).
"""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from _machine import describe_machine, median_ms

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def post(conn: http.client.HTTPConnection, body: bytes) -> int:
    conn.request("POST", "/v1/predict", body, {"Content-Type": "image/jpeg"})
    response = conn.getresponse()
    response.read()
    return response.status


def wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if server.poll() is not None:
            raise SystemExit(f"emorec serve exited with status {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"emorec serve did not answer on port {port} in {timeout} s")


def load(port: int, body: bytes, requests: int, clients: int) -> dict[str, float]:
    """Send ``requests`` requests from ``clients`` threads; latencies and errors."""
    latencies: list[float] = []
    errors = [0]
    left = [requests]
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if left[0] == 0:
                    break
                left[0] -= 1
            start = time.perf_counter()
            try:
                status = post(conn, body)
            except (OSError, http.client.HTTPException):
                status = -1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                errors[0] += status != 200
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / wall,
        "p50": cuts[49] * 1000,
        "p90": cuts[89] * 1000,
        "p99": cuts[98] * 1000,
        "errors": errors[0],
    }


def batching(body: bytes, model: str | None, server_rps: float | None, rounds: int = 5) -> None:
    """Print what one model call for several requests would buy against one call each.

    The stages are timed in alternation, ``rounds`` times (medians of each), so a load that
    changes during the run touches both sides alike; the ratios are what to quote.
    """
    from emorec import EmotionClassifier
    from emorec.images import load_image

    clf = EmotionClassifier.load(model) if model else EmotionClassifier.load()
    prepared = clf.prepare(load_image(body, "rgb", max_pixels=clf.max_pixels))
    print(
        f"batching, in this process (server stopped; model {clf.model.name}, "
        f"{type(clf.model).__name__}, TTA {clf.tta}, {len(prepared.crops)} face(s) a photo; "
        f"medians of {rounds} alternating rounds):"
    )
    sizes = (4, 16)
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        timed = {
            "decode + prepare": median_ms(
                lambda: clf.prepare(load_image(body, "rgb", max_pixels=clf.max_pixels)), 10
            ),
            "classify 1": median_ms(lambda: clf.classify([prepared]), 10),
            **{
                f"classify {k}": median_ms(lambda k=k: clf.classify([prepared] * k), 4)
                for k in sizes
            },
            "predict 1": median_ms(lambda: clf.predict(body), 6),
            "predict 16": median_ms(lambda: clf.predict([body] * 16), 2, warmup=1),
        }
        for name, ms in timed.items():
            times.setdefault(name, []).append(ms)
    ms = {name: statistics.median(values) for name, values in times.items()}
    prepare_ms, classify_ms = ms["decode + prepare"], ms["classify 1"]
    share = classify_ms / (prepare_ms + classify_ms)
    print(
        f"  a request's stages: decode + prepare {prepare_ms:.1f} ms, classify {classify_ms:.1f} ms"
    )
    print(f"  ({share:.0%} of the work is the model call that batching would merge)")
    print(
        f"  {'photos in one call':>18} {'classify ms/photo':>18} {'vs 1 a call':>12} "
        f"{'best request gain':>18}"
    )
    print(f"  {1:>18} {classify_ms:>18.1f} {1:>11.2f}x {1:>17.2f}x")
    for k in sizes:
        gain = classify_ms * k / ms[f"classify {k}"]
        best = 1 / (1 - share * (1 - 1 / gain))  # the rest of a request is not batched
        print(f"  {k:>18} {ms[f'classify {k}'] / k:>18.1f} {gain:>11.2f}x {best:>17.2f}x")
    one, many = 1000 / ms["predict 1"], 16_000 / ms["predict 16"]
    print(
        f"  EmotionClassifier.predict: {one:.1f} photos/s one a call, {many:.1f} photos/s "
        f"16 a call ({many / one:.2f}x)"
    )
    if server_rps is not None:
        print(
            f"  the server at 16 clients: {server_rps:.1f} req/s = {server_rps / many:.2f}x "
            f"batched predict (target: at least 0.70x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument(
        "--photo", type=Path, default=ROOT / "examples" / "photos" / "astronaut.jpg"
    )
    parser.add_argument("--max-concurrent", type=int, default=4)
    parser.add_argument("--max-queue", type=int, default=16)
    parser.add_argument("--model", default=None)
    parser.add_argument(
        "--batch", action="store_true", help="then compare one model call a photo with batches"
    )
    args = parser.parse_args()
    if not 1 <= args.requests <= 5000:
        raise SystemExit(f"--requests {args.requests}; expected 1 to 5000 (a bounded test)")
    print(describe_machine())
    body = args.photo.read_bytes()
    port = free_port()
    command = [sys.executable, "-m", "emorec.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--max-concurrent", str(args.max_concurrent)]
    command += ["--max-queue", str(args.max_queue)]
    command += ["--model", args.model] if args.model else []
    print(f"server: {' '.join(command[1:])}")
    print(f"photo: {args.photo.name} ({len(body)} bytes); {args.requests} requests a row")
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # its stderr: ours
    rps: dict[int, float] = {}
    try:
        wait_ready(port, server)
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        if post(warm, body) != 200:
            raise SystemExit("the warm-up request failed")
        warm.close()
        print(
            f"{'clients':>7} {'req/s':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
            f"{'errors':>6} {'RSS before':>11} {'RSS after':>10}"
        )
        for clients in args.clients:
            before = rss_mib(server.pid)
            row = load(port, body, args.requests, clients)
            rps[clients] = row["rps"]
            after = rss_mib(server.pid)
            print(
                f"{clients:>7} {row['rps']:>7.1f} {row['p50']:>8.1f} {row['p90']:>8.1f} "
                f"{row['p99']:>8.1f} {int(row['errors']):>6} {before:>8.1f} MiB "
                f"{after:>6.1f} MiB"
            )
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    if args.batch:
        batching(body, args.model, rps.get(16))


if __name__ == "__main__":
    main()
