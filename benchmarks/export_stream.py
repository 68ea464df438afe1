"""`coordinator export` at scale: observations per second and the exporting process's peak
memory, at two history sizes, so flat memory shows as the same peak (docs/scaling.md).

A private redis-server gets one real experiment whose observation (recorded through the
service, as a worker does) is copied under N fresh ids; then `coordinator export` runs as a
subprocess, as a user runs it, writing to a file.

    python -m benchmarks.export_stream [--sizes 100000,1000000] [--formats json,csv]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from benchmarks.harness import ROOT, private_redis
from benchmarks.redis_memory import observe_many
from coordinator.infra.connection import connect
from coordinator.service.experiments import Service
from coordinator.state import keys
from coordinator.state.store import Store


def fill(service: Service, count: int) -> str:
    """An experiment with `count` observations: one real one, copied under new ids."""
    experiment_id = observe_many(service, 1, with_output=False)
    key = keys.ExperimentKeys(experiment_id).observations
    (template,) = service.store.redis.hvals(key)
    record = json.loads(template)
    service.store.redis.delete(key)
    first = int(service.store.allocate_ids(count)[0])
    pipe = service.store.redis.pipeline(transaction=False)
    for number in range(first, first + count):
        record["id"] = str(number)
        pipe.hset(key, str(number), json.dumps(record))
        if number % 10_000 == 0:
            pipe.execute()
    pipe.execute()
    return experiment_id


def export(url: str, experiment_id: str, fmt: str, path: str) -> tuple[float, float]:
    """(seconds, peak resident MB) of one `coordinator export` subprocess."""
    code = ("import resource, sys\nfrom coordinator.cli.main import cli\n"
            "try:\n    cli(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "export", experiment_id, "--format",
                           fmt, "-o", path], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "CELERIAC_REDIS_URL": url}, check=True)
    seconds = time.perf_counter() - start
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--formats", default="json,csv")
    args = parser.parse_args()
    print("| observations | format | seconds | observations/s | peak MB of the export | "
          "file MB |\n|---|---|---|---|---|---|")
    with private_redis() as url, tempfile.TemporaryDirectory() as folder:
        service = Service(Store(connect(url)))
        for size in (int(s) for s in args.sizes.split(",")):
            service.store.redis.flushall()
            experiment_id = fill(service, size)
            for fmt in args.formats.split(","):
                path = os.path.join(folder, f"export.{fmt}")
                seconds, peak = export(url, experiment_id, fmt, path)
                print(f"| {size:,} | {fmt} | {seconds:.1f} | {size / seconds:,.0f} | "
                      f"{peak:.0f} | {os.path.getsize(path) / 2**20:.0f} |", flush=True)


if __name__ == "__main__":
    main()
