"""A bounded load test of ``emorec serve`` on 127.0.0.1: throughput, latency, errors, memory.

    python benchmarks/serve_load.py [--requests 400] [--clients 1 4 16] [--photo PATH]
                                    [--max-concurrent 4] [--max-queue 16] [--model NAME]

Starts ``emorec serve`` in a subprocess on a free port of 127.0.0.1 (never another address),
waits for ``/healthz``, then for each number of clients sends ``--requests`` requests of
``POST /v1/predict`` (the photo as the raw body; default ``examples/photos/astronaut.jpg``,
one face, 512x512) from that many threads, each with its own keep-alive ``http.client``
connection. Prints, per client count, the throughput (requests a second), the p50/p90/p99
latency, the errors (any status but 200, or a failed connection) and the server's resident
memory (``VmRSS`` of ``/proc/<pid>/status``) before and after, after one warm-up request.
The machine and its load come first (``benchmarks/_machine.py``).
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

from _machine import describe_machine

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument(
        "--photo", type=Path, default=ROOT / "examples" / "photos" / "astronaut.jpg"
    )
    parser.add_argument("--max-concurrent", type=int, default=4)
    parser.add_argument("--max-queue", type=int, default=16)
    parser.add_argument("--model", default=None)
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


if __name__ == "__main__":
    main()
