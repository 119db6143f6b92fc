"""Measure tapegrad.dask on this machine: the numbers behind docs/scale-out.md.

    python examples/dask_scaling.py --rows 10000000 --chunk-rows 1000000 --repeats 5

1. The gradient of the logistic loss of examples/dask_train.py over rows x 32 float32 rows
   (generated and persisted on the workers) on a LocalCluster of 1 and of 2 worker processes,
   one thread each: the median wall time of `tapegrad.dask.value_and_grad`, and the client's RSS
   change (the rows never come to the client).
2. The overhead per chunk at 10^5 rows per chunk (1 worker): the wall time of a call with K
   chunks and with 1 chunk, against one chunk's compute timed inside the worker.
3. The bytes each step sends: the pickled loss + parameters (to every worker) and one partial
   result (per task).
Prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import cloudpickle
import numpy as np
import psutil
from dask_train import loss, make_data
from distributed import Client, LocalCluster, wait

import tapegrad as tg
import tapegrad.dask as tgd


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def _params(features):
    return tg.Parameter(tg.zeros(features), name="w"), tg.Parameter(tg.zeros(()), name="b")


def _worker_chunk_time(rows, features, repeats):
    """Runs on a worker: one chunk's loss and gradient, the worker's thread settings."""
    import tapegrad.dask as tgd

    tgd._worker_threads()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, features), dtype=np.float32)
    y = (rng.random(rows) < 0.5).astype(np.float32)
    w, b = _params(features)
    payload = (tgd._Fn(loss), [np.asarray(w), np.asarray(b)], True)
    tgd._chunk_value_and_grad(payload, x, y)
    return _median_time(lambda: tgd._chunk_value_and_grad(payload, x, y), repeats)[
        0
    ], tg.get_num_threads()


class Cluster:
    def __init__(self, n_workers):
        self.cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        self.client = Client(self.cluster)

    def data(self, rows, features, chunk_rows):
        x, y, _ = make_data(rows, features, chunk_rows)
        x, y = self.client.persist([x, y])
        wait([x, y])
        return x, y

    def gradient_time(self, x, y, repeats):
        w, b = _params(x.shape[1])
        run = lambda: tgd.value_and_grad(loss, (w, b), x, y, reduce="mean")
        run()  # warm: imports and first calls on the workers
        proc = psutil.Process()
        rss0 = proc.memory_info().rss
        t, times = _median_time(run, repeats)
        return t, times, proc.memory_info().rss - rss0

    def noop_time(self, n=100):
        noop = lambda i: i
        self.client.gather(self.client.map(noop, range(10), pure=False))
        t, _ = _median_time(
            lambda: self.client.gather(self.client.map(noop, range(n), pure=False)), 3
        )
        return t / n

    def close(self):
        self.client.close()
        self.cluster.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--features", type=int, default=32)
    ap.add_argument("--chunk-rows", type=int, default=1_000_000)
    ap.add_argument(
        "--overhead-chunks", type=int, default=40, help="chunks of 10^5 rows for the overhead run"
    )
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"uptime before: {os.popen('uptime').read().strip()}")
    print(
        f"cores: {os.cpu_count()}; tapegrad {tg.__version__}; client RSS {psutil.Process().memory_info().rss / 2**20:.0f} MiB"
    )

    results = []
    for n in (1, 2):
        c = Cluster(n)
        try:
            x, y = c.data(args.rows, args.features, args.chunk_rows)
            t, times, drss = c.gradient_time(x, y, args.repeats)
            chunk_t, threads = c.client.run(
                _worker_chunk_time,
                args.chunk_rows,
                args.features,
                3,
                workers=[next(iter(c.client.scheduler_info()["workers"]))],
            ).popitem()[1]
            results.append((n, t, times, drss, chunk_t, threads))
            print(
                f"{n} worker(s): median {t:.3f} s of {[round(v, 3) for v in times]}; client RSS change {drss / 2**20:+.1f} MiB; "
                f"one {args.chunk_rows}-row chunk on a worker ({threads} kernel thread): {chunk_t * 1e3:.1f} ms"
            )
        finally:
            c.close()
    t1 = results[0][1]
    nchunks = -(-args.rows // args.chunk_rows)
    print()
    print(
        f"| workers | gradient, {args.rows:.0e} x {args.features} float32 rows, {nchunks} chunks | speed-up | client RSS change |"
    )
    print("|---|---|---|---|")
    for n, t, _, drss, _, _ in results:
        print(f"| {n} | {t:.3f} s | {t1 / t:.2f}x | {drss / 2**20:+.1f} MiB |")

    # Overhead at 10^5 rows per chunk, 1 worker: the call's wall time against the compute time of
    # its tasks on the worker (Dask's task stream), the same call under the same load.
    from distributed import get_task_stream

    k = args.overhead_chunks
    c = Cluster(1)
    try:
        xk, yk = c.data(k * 100_000, args.features, 100_000)
        w, b = _params(args.features)
        tgd.value_and_grad(loss, (w, b), xk, yk, reduce="mean")
        rows = []
        for _ in range(args.repeats):
            with get_task_stream(c.client) as ts:
                t0 = time.perf_counter()
                tgd.value_and_grad(loss, (w, b), xk, yk, reduce="mean")
                wall = time.perf_counter() - t0
            comp = sum(
                ss["stop"] - ss["start"]
                for task in ts.data
                if "group_value_and_grad" in str(task["key"])
                for ss in task["startstops"]
                if ss["action"] == "compute"
            )
            rows.append((wall, comp))
        one, threads = next(
            iter(c.client.run(_worker_chunk_time, 100_000, args.features, 20).values())
        )
        noop = c.noop_time()
    finally:
        c.close()
    wall, comp = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
    print()
    print(
        f"10^5 rows per chunk, {k} chunks, 1 worker ({threads} kernel thread), median of {args.repeats}: "
        f"{[(round(a * 1e3, 1), round(b * 1e3, 1)) for a, b in rows]} (wall, compute in tasks) ms"
    )
    print(
        "| chunk compute (in the task) | call wall time / chunks | overhead per chunk | overhead / compute | "
        "one chunk alone on the worker (best-case compute) | no-op task (throughput) |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| {comp / k * 1e3:.2f} ms | {wall / k * 1e3:.2f} ms | {(wall - comp) / k * 1e3:.2f} ms | "
        f"{(wall - comp) / comp * 100:.1f}% | {one * 1e3:.2f} ms | {noop * 1e3:.2f} ms |"
    )

    w, b = _params(args.features)
    payload = (tgd._Fn(loss), [np.asarray(w), np.asarray(b)], True)
    part = tgd._chunk_value_and_grad(
        payload, np.zeros((10, args.features), np.float32), np.zeros(10, np.float32)
    )
    print()
    print(
        f"bytes per step: payload (loss + params, pickled) {len(cloudpickle.dumps(payload))} B to each worker; "
        f"one partial result {len(cloudpickle.dumps(part))} B per task"
    )
    print(f"uptime after: {os.popen('uptime').read().strip()}")


if __name__ == "__main__":
    main()
