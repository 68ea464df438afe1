"""HTTP API figures: suggestion latency under 8 concurrent clients once the experiment holds 200
observations, and observations per second through the official client with 8 threads.

    python -m benchmarks.api_latency [--clients 8] [--requests 200] [--seed-observations 200]
        [--metric-seconds 0.5 --no-throughput]   # clients that evaluate: how many suggestions
                                                 # the model made rather than the fallback

Starts its own redis-server and `coordinator serve` (ended on exit). Latency clients are
separate processes, so client-side Python does not distort the server's figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

import httpx

from benchmarks.harness import ROOT, private_redis
from coordinator.infra.connection import connect
from coordinator.state.store import Store
from coordinator.state.tokens import Tokens

PARAMETERS = [{"name": "x", "type": "double", "bounds": {"min": -2, "max": 2}},
              {"name": "y", "type": "double", "bounds": {"min": -3, "max": 1}},
              {"name": "depth", "type": "int", "bounds": {"min": 1, "max": 12}}]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(redis_url: str, port: int, refill: bool) -> subprocess.Popen[bytes]:
    extra = [] if refill else ["--no-refill"]
    process = subprocess.Popen([sys.executable, "-m", "coordinator", "--redis-url", redis_url,
                                "serve", "--port", str(port), *extra], cwd=ROOT,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("coordinator serve did not start")


def seed(http: httpx.Client, observations: int) -> str:
    """An experiment holding `observations` results (reported as the client's own points)."""
    eid = http.post("/v1/experiments", json={"name": "latency", "parameters": PARAMETERS,
                                             "parallel_bandwidth": 8}).json()["id"]
    for i in range(observations):
        x, y, depth = -2 + 4 * ((i * 0.618) % 1), -3 + 4 * ((i * 0.382) % 1), 1 + i % 12
        http.post(f"/v1/experiments/{eid}/observations", json={
            "assignments": {"x": x, "y": y, "depth": depth},
            "value": -(x - 0.3) ** 2 - (y + 1) ** 2}).raise_for_status()
    return eid


def latency_client(url: str, token: str, eid: str, count: int, out: Any,
                   metric_seconds: float = 0.0) -> None:
    timings, ids = [], []
    with httpx.Client(base_url=url, auth=(token, ""), timeout=60) as http:
        for _ in range(count):
            start = time.perf_counter()
            answer = http.post(f"/v1/experiments/{eid}/suggestions", json={})
            timings.append(time.perf_counter() - start)
            suggestion = answer.json()
            ids.append(suggestion["id"])
            time.sleep(metric_seconds)  # the evaluation
            http.post(f"/v1/experiments/{eid}/observations",
                      json={"suggestion": suggestion["id"], "value": 0.0})
    out.put((timings, ids))


def measure_latency(url: str, token: str, eid: str, clients: int, count: int,
                    metric_seconds: float = 0.0) -> tuple[list[float], list[str]]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    processes = [context.Process(target=latency_client,
                                 args=(url, token, eid, count, out, metric_seconds))
                 for _ in range(clients)]
    for p in processes:
        p.start()
    timings: list[float] = []
    ids: list[str] = []
    for _ in processes:
        t, i = out.get(timeout=600)
        timings += t
        ids += i
    for p in processes:
        p.join(10)
    return timings, ids


def measure_throughput(url: str, token: str, threads: int, seconds: float) -> float:
    from sigopt import Connection

    conn = Connection(client_token=token)
    conn.set_api_url(url)
    eid = conn.experiments().create(name="throughput", parameters=PARAMETERS,
                                    parallel_bandwidth=threads).id
    done = [0] * threads
    stop = time.monotonic() + seconds

    def work(slot: int) -> None:
        while time.monotonic() < stop:
            s = conn.experiments(eid).suggestions().create()
            conn.experiments(eid).observations().create(suggestion=s.id, value=0.0)
            done[slot] += 1
    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / (time.monotonic() - started)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200, help="per client")
    parser.add_argument("--seed-observations", type=int, default=200)
    parser.add_argument("--throughput-seconds", type=float, default=15.0)
    parser.add_argument("--metric-seconds", type=float, default=0.0,
                        help="time each client 'evaluates' between suggestion and observation")
    parser.add_argument("--throughput", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--no-refill", action="store_true",
                        help="serve without the refiller (every suggestion is a fallback)")
    args = parser.parse_args()
    with private_redis() as redis_url:
        store = Store(connect(redis_url))
        token = Tokens(store.redis).create("bench")[0]
        port = free_port()
        server = start_server(redis_url, port, not args.no_refill)
        url = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=url, auth=(token, ""), timeout=60) as http:
                eid = seed(http, args.seed_observations)
            deadline = time.monotonic() + 120  # let the refiller build the first backlog
            while not args.no_refill and store.counts(eid).backlog == 0 and \
                    time.monotonic() < deadline:
                time.sleep(0.2)
            timings, ids = measure_latency(url, token, eid, args.clients, args.requests,
                                           args.metric_seconds)
            strategies = Counter(s.strategy for s in store.suggestions(eid, ids))
            throughput = measure_throughput(url, token, args.clients, args.throughput_seconds) \
                if args.throughput else 0.0
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
    ms = [t * 1000 for t in timings]
    print(json.dumps({
        "clients": args.clients, "suggestions": len(ms), "metric_seconds": args.metric_seconds,
        "seed_observations": args.seed_observations,
        "p50_ms": round(statistics.median(ms), 2), "p90_ms": round(percentile(ms, 0.9), 2),
        "p99_ms": round(percentile(ms, 0.99), 2), "max_ms": round(max(ms), 2),
        "served_by_strategy": dict(strategies),
        "observations_per_second_8_threads_sigopt_client": round(throughput, 1)}, indent=2))


if __name__ == "__main__":
    main()
