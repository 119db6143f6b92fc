"""Measure tapegrad.dask on this machine: the scaling table and the cost-model inputs of
docs/scale-out.md (gradient time on 1 and 2 workers, per-chunk scheduling overhead at 10^5 rows,
the client's memory, the bytes sent per step).

    python examples/dask_scaling.py --rows 10000000 --chunk-rows 1000000 --repeats 5

Every worker process runs tapegrad on one kernel thread (tg.set_num_threads(1)) and one Dask
thread, so that 2 workers use 2 cores and 1 worker uses 1. Prints Markdown tables.
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
from distributed import Client, LocalCluster

import tapegrad as tg
import tapegrad.dask as tgd


def _one_thread():
    import tapegrad

    tapegrad.set_num_threads(1)
    return tapegrad.get_num_threads()


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def _params(features):
    return tg.Parameter(tg.zeros(features), name="w"), tg.Parameter(tg.zeros(()), name="b")


def chunk_compute_time(rows, features, repeats):
    """In this process, one thread: the loss and gradient of one chunk (what a worker computes)."""
    tg.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, features), dtype=np.float32)
    y = (rng.random(rows) < 0.5).astype(np.float32)
    w, b = _params(features)
    vg = tg.value_and_grad(loss, grad_position=(0, 1))
    vg(w, b, x, y)
    return _median_time(lambda: vg(w, b, x, y), repeats)[0]


def cluster_times(n_workers, rows, features, chunk_rows, repeats):
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    try:
        client.run(_one_thread)
        x, y, _ = make_data(rows, features, chunk_rows)
        x, y = client.persist([x, y])
        client.wait_for_workers(n_workers)
        from distributed import wait

        wait([x, y])
        w, b = _params(features)
        proc = psutil.Process()
        rss0 = proc.memory_info().rss
        tgd.value_and_grad(loss, (w, b), x, y, reduce="mean")  # warm up (imports, first records)
        t, all_t = _median_time(lambda: tgd.value_and_grad(loss, (w, b), x, y, reduce="mean"), repeats)
        rss1 = proc.memory_info().rss
        # a no-op task per chunk: the scheduler's own cost per task, measured the same way
        noop = lambda i: i  # noqa: E731
        n_noop = 200
        client.gather(client.map(noop, range(10), pure=False))
        t_noop, _ = _median_time(lambda: client.gather(client.map(noop, range(n_noop), pure=False)), 3)
        return t, all_t, rss1 - rss0, t_noop / n_noop
    finally:
        client.close()
        cluster.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--features", type=int, default=32)
    ap.add_argument("--chunk-rows", type=int, default=1_000_000)
    ap.add_argument("--overhead-rows", type=int, default=2_000_000, help="rows for the 10^5-rows-per-chunk run")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"uptime: {os.popen('uptime').read().strip()}")
    print(f"cores: {os.cpu_count()}; tapegrad {tg.__version__}")

    c_chunk = chunk_compute_time(args.chunk_rows, args.features, args.repeats)
    c_small = chunk_compute_time(100_000, args.features, 20)
    print(f"one chunk in-process, 1 thread: {args.chunk_rows} rows {c_chunk * 1e3:.1f} ms; 10^5 rows {c_small * 1e3:.2f} ms")

    rows_table = []
    for n in (1, 2):
        t, all_t, drss, t_noop = cluster_times(n, args.rows, args.features, args.chunk_rows, args.repeats)
        rows_table.append((n, t, all_t, drss, t_noop))
        print(f"{n} worker(s): {t:.3f} s median of {[round(v, 3) for v in all_t]}; client RSS change {drss / 2**20:.1f} MiB; "
              f"no-op task {t_noop * 1e3:.2f} ms")
    t1 = rows_table[0][1]
    print()
    print(f"| workers | gradient of {args.rows:.0e} x {args.features} rows ({args.rows // args.chunk_rows} chunks) | speed-up | client RSS change |")
    print("|---|---|---|---|")
    for n, t, _, drss, _ in rows_table:
        print(f"| {n} | {t:.3f} s | {t1 / t:.2f}x | {drss / 2**20:+.1f} MiB |")

    # Overhead at 10^5 rows per chunk, 1 worker: wall time per chunk against the chunk's compute.
    rows = args.overhead_rows
    t, all_t, _, t_noop = cluster_times(1, rows, args.features, 100_000, args.repeats)
    per_chunk = t / (rows // 100_000)
    print()
    print(f"10^5 rows per chunk, {rows // 100_000} chunks, 1 worker: {t:.3f} s per gradient -> {per_chunk * 1e3:.2f} ms per chunk; "
          f"compute {c_small * 1e3:.2f} ms; overhead {(per_chunk - c_small) * 1e3:.2f} ms = "
          f"{(per_chunk - c_small) / c_small * 100:.1f}% of the compute; a no-op task costs {t_noop * 1e3:.2f} ms")

    w, b = _params(args.features)
    payload = (tgd._Fn(loss), [np.asarray(w), np.asarray(b)], True)
    print(f"bytes scattered per step per worker (pickled payload: loss + params): {len(cloudpickle.dumps(payload))}")
    part = tgd._chunk_value_and_grad((tgd._Fn(loss), [np.asarray(w), np.asarray(b)], True),
                                     np.zeros((10, args.features), np.float32), np.zeros(10, np.float32))
    print(f"bytes of one chunk's result (pickled): {len(cloudpickle.dumps(part))}")



if __name__ == "__main__":
    main()
