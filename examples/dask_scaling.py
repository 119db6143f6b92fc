"""Measure tapegrad.dask on this machine: the numbers behind docs/scale-out.md, and the issue's two
targets.

    python examples/dask_scaling.py --rows 10000000 --chunk-rows 1000000 --overhead-chunks 100 \
        --overhead-chunks-2 300 --repeats 5

1. Speed-up: the gradient of examples/dask_train.py's logistic loss over rows x 32 float32 rows
   (generated on the workers and persisted evenly: the same number of chunks on each) on a
   LocalCluster of 1 and of 2 worker processes (dask_train.local_cluster: one task thread and one
   kernel thread each, Dask's monitors quieter): the median wall time of
   `tapegrad.dask.value_and_grad`, and the client's RSS change (the rows never come to the
   client). Target: 2 workers at least 1.7x faster than 1.
2. Overhead per chunk at 10^5 rows per chunk (1 worker): calls over --overhead-chunks (100) and
   --overhead-chunks-2 (300) persisted chunks, alternating. The compute per chunk `c` is the
   compute time over the chunks (measured on the worker by tapegrad.dask when a call goes straight
   to the worker, else the gradient tasks' in Dask's task stream), pooled over both
   sizes; the average overhead at K chunks is (wall / K - c) / c (what the call costs beyond the
   compute in its tasks, spread over the chunks), the marginal one (slope of the wall time
   between the two sizes - c) / c (what one more chunk costs, without the fixed cost per call).
   Target: below 5%. Wall times depend on what else the machine runs; so the same two are also
   given in CPU time, which depends far less on load: the CPU the client + scheduler process and
   the worker spend per call beyond their idle rates (heartbeats), against one chunk's loss and
   gradient computed alone on the worker (the thread's CPU clock).
3. The bytes each step sends: the pickled loss + parameters and one partial result.
Prints Markdown; the last two lines are the two target ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import cloudpickle
import numpy as np
import psutil
from dask_train import local_cluster, make_data, persist_evenly
from dask_train import loss as plain_loss
from distributed import Client, get_task_stream

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


def _loss(jit):
    """The loss of examples/dask_train.py, or its tg.jit (differentiated as one recorded replay)."""
    return tg.jit(plain_loss) if jit else plain_loss


def _payload(features, jit=False):
    w, b = _params(features)
    return (tgd._Fn(_loss(jit)), [np.asarray(w), np.asarray(b)], True)


def _worker_chunk_time(rows, features, repeats, jit=False):
    """Runs on a worker: one chunk's loss and gradient as a task computes it, the worker's thread
    settings; (median wall s, median thread CPU s, kernel threads). It cycles through chunks of
    64 MiB or more in all, so that each chunk comes from memory, not from the cache, as the
    persisted chunks of a call do."""
    import tapegrad.dask as tgd

    tgd._worker_threads()
    rng = np.random.default_rng(0)
    n = max(2, -(-(64 << 20) // (rows * (features + 1) * 4)))
    chunks = [
        (
            rng.standard_normal((rows, features), dtype=np.float32),
            (rng.random(rows) < 0.5).astype(np.float32),
        )
        for _ in range(n)
    ]
    payload = _payload(features, jit)
    walls, cpus = [], []
    for i in range(repeats + n):
        x, y = chunks[i % n]
        t0, c0 = time.perf_counter(), time.thread_time()
        tgd._group_value_and_grad(payload, 2, x, y)
        if i >= n:  # the first pass over the chunks warms up (first calls, page faults)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.thread_time() - c0)
    return statistics.median(walls), statistics.median(cpus), tg.get_num_threads()


def _call_compute(ts):
    """Seconds of compute of the last call's chunks, by worker: measured on the workers by
    tapegrad.dask when the call went straight to them (no task), else the compute of its gradient
    tasks in the task stream."""
    last = tgd._LAST_CALL
    if last.get("path") == "direct":
        return dict(last["compute_s"])
    return _task_compute(ts)


def _call_kind(ts):
    last = tgd._LAST_CALL
    if last.get("path") == "direct":
        return f"direct, {len(last['compute_s'])} request(s)"
    return f"{sum(1 for task in ts.data if 'tapegrad-' in str(task['key']))} task(s)"


def _task_compute(ts):
    """Seconds of compute of each tapegrad gradient task in a task stream, by worker."""
    out = {}
    for task in ts.data:
        if "tapegrad-grad" in str(task["key"]):
            for ss in task["startstops"]:
                if ss["action"] == "compute":
                    out[task["worker"]] = out.get(task["worker"], 0.0) + ss["stop"] - ss["start"]
    return out


def _cpu_seconds(proc):
    """CPU time of a process's threads: /proc's per-thread schedstat (nanoseconds) where there is
    one, else psutil's (in clock ticks of 10 ms: too coarse for one call)."""
    try:
        total = 0
        for tid in os.listdir(f"/proc/{proc.pid}/task"):
            with open(f"/proc/{proc.pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        return total * 1e-9
    except OSError:
        t = proc.cpu_times()
        return t.user + t.system


class Cluster:
    def __init__(self, n_workers):
        self.cluster = local_cluster(n_workers)
        self.client = Client(self.cluster)
        self.workers = [psutil.Process(p) for p in self.client.run(os.getpid).values()]

    def data(self, rows, features, chunk_rows):
        x, y, _ = make_data(rows, features, chunk_rows)
        x, y = persist_evenly(self.client, x, y)
        per_worker = {}
        for w, keys in self.client.has_what().items():
            per_worker[w] = sum(1 for k in keys if k[0] == x.name)
        return x, y, sorted(per_worker.values())

    def cpu(self):
        """CPU seconds so far of this process (client + scheduler) and of the worker processes."""
        return _cpu_seconds(psutil.Process()), sum(_cpu_seconds(p) for p in self.workers)

    def idle_cpu_rate(self, seconds=2.0):
        c0 = self.cpu()
        time.sleep(seconds)
        c1 = self.cpu()
        return [(b - a) / seconds for a, b in zip(c0, c1)]

    def close(self):
        self.client.close()
        self.cluster.close()


def _speedup_run(n, args):
    """Gradient calls over --rows rows on n workers: (n, median wall, walls, client RSS change,
    busiest worker's task compute, chunks per worker, per-call CPU of the client + scheduler and
    of the busiest worker, both less their idle rates)."""
    c = Cluster(n)
    try:
        x, y, placement = c.data(args.rows, args.features, args.chunk_rows)
        w, b = _params(args.features)

        def run():
            return tgd.value_and_grad(loss, (w, b), x, y, reduce="mean")

        loss = _loss(args.jit)

        run()  # warm: imports and first calls on the workers
        idle = c.idle_cpu_rate(1.0)
        proc = psutil.Process()
        rss0 = proc.memory_info().rss
        times, busiest, cpus = [], [], []
        for _ in range(args.repeats):
            with get_task_stream(c.client) as ts:
                c0, w0 = _cpu_seconds(proc), [_cpu_seconds(p) for p in c.workers]
                t, _ = _median_time(run, 1)
                c1, w1 = _cpu_seconds(proc), [_cpu_seconds(p) for p in c.workers]
            times.append(t)
            busiest.append(max(_call_compute(ts).values()))
            per_worker = [b1 - a - idle[1] / n * t for a, b1 in zip(w0, w1)]
            cpus.append((c1 - c0 - idle[0] * t, max(per_worker)))
        drss = proc.memory_info().rss - rss0
        t = statistics.median(times)
        cpu = tuple(statistics.median(v[i] for v in cpus) for i in range(2))
        print(
            f"{n} worker(s), chunks per worker {placement}: median {t:.3f} s of {[round(v, 3) for v in times]}; "
            f"busiest worker's gradient tasks {statistics.median(busiest):.3f} s; CPU per call: client+scheduler "
            f"{cpu[0] * 1e3:.1f} ms, busiest worker {cpu[1] * 1e3:.1f} ms; client RSS change {drss / 2**20:+.1f} MiB"
        )
        return (n, t, times, drss, statistics.median(busiest), placement, cpu)
    finally:
        c.close()


def _overhead_run(args):
    """Overhead per chunk on 1 worker, at --overhead-chunks and --overhead-chunks-2 persisted
    chunks of --overhead-rows rows, calls of the two sizes alternating (so that both see the same
    load); medians over --repeats calls of each.

    The compute of a call is the wall time tapegrad.dask measured on the worker around its groups
    of chunks when the call went straight to the worker (as "direct" in the output), else the
    compute time of its gradient tasks (Dask's task stream: the wall
    time inside the task functions, which holds the chunks' own loss and gradient and
    tapegrad.dask's per-chunk work around them), its overhead the rest of its wall time (client,
    graph, scheduler, messages, the worker's hand-overs, the gather). Per size K, the medians over
    the calls of the overhead and of the compute; then, compute measured this one way for both:
    - average overhead per chunk at K chunks: overhead(K) / compute(K) (both per chunk);
    - marginal overhead per chunk: the slope of the overhead between the two sizes,
      (overhead(K2) - overhead(K1)) / (K2 - K1) -- the slope of the wall time less the slope of
      the compute, what one more chunk costs beyond its compute -- over the compute per chunk `c`
      (pooled over both sizes); the intercept is the fixed cost per call.
    The same in CPU time: the CPU of the client + scheduler process and of the worker (less their
    idle rates) beyond `c_cpu`, one chunk's loss and gradient alone on the worker (thread CPU
    time), which depends far less on what else the machine runs (but a chunk computed in a call
    beside other processes can take more CPU than alone: cache and memory contention)."""
    ks = (args.overhead_chunks, args.overhead_chunks_2)
    if ks[0] >= ks[1]:
        raise SystemExit("--overhead-chunks-2 must be larger than --overhead-chunks")
    rows, feats = args.overhead_rows, args.features
    c = Cluster(1)
    try:
        data = {k: c.data(k * rows, feats, rows)[:2] for k in ks}
        w, b = _params(feats)
        loss = _loss(args.jit)

        def run(k):
            return tgd.value_and_grad(loss, (w, b), *data[k], reduce="mean")

        for k in ks:  # warm: first calls on the worker, the chunks' places
            run(k)
            run(k)
        idle = c.idle_cpu_rate()
        calls = {k: [] for k in ks}
        ntasks = {}
        for _ in range(args.repeats):
            for k in ks:
                with get_task_stream(c.client) as ts:
                    cpu0 = c.cpu()
                    t0 = time.perf_counter()
                    run(k)
                    wall = time.perf_counter() - t0
                    cpu1 = c.cpu()
                comp = sum(_call_compute(ts).values())
                ntasks[k] = _call_kind(ts)
                cpu = [b1 - a - r * wall for a, b1, r in zip(cpu0, cpu1, idle)]
                calls[k].append((wall, comp, cpu[0], cpu[1]))
        one_wall, one_cpu, threads = next(
            iter(c.client.run(_worker_chunk_time, rows, feats, 20, args.jit).values())
        )
    finally:
        c.close()
    med = {k: [statistics.median(r[i] for r in calls[k]) for i in range(4)] for k in ks}
    k1, k2 = ks
    ovh = {k: statistics.median(r[0] - r[1] for r in calls[k]) for k in ks}
    cc = (med[k1][1] + med[k2][1]) / (k1 + k2)  # compute per chunk, in the tasks
    avg = {k: ovh[k] / med[k][1] for k in ks}
    slope = (ovh[k2] - ovh[k1]) / (k2 - k1)
    marginal = slope / cc
    cpu_call = {k: med[k][2] + med[k][3] for k in ks}
    avg_cpu = {k: (cpu_call[k] / k - one_cpu) / one_cpu for k in ks}
    slope_cpu = (cpu_call[k2] - cpu_call[k1]) / (k2 - k1)
    marginal_cpu = (slope_cpu - one_cpu) / one_cpu

    print()
    print(
        f"Overhead per chunk at {rows:.0e} rows per chunk, 1 worker ({threads} kernel thread), calls of {k1} and {k2} "
        f"chunks alternating, {args.repeats} each (medians; ms: wall, compute in the tasks, client+scheduler CPU, "
        "worker CPU, CPU less the idle rates):"
    )
    for k in ks:
        print(
            f"  {k} chunks, {ntasks[k]} per call: {[tuple(round(v * 1e3, 1) for v in r) for r in calls[k]]}"
        )
    print(
        f"idle CPU rate: client+scheduler {idle[0] * 1e3:.1f} ms/s, worker {idle[1] * 1e3:.1f} ms/s; "
        f"one chunk alone on the worker: {one_cpu * 1e3:.3f} ms CPU, {one_wall * 1e3:.3f} ms wall"
    )
    print()
    print(
        "| chunks | call wall | compute in the tasks | overhead (wall - compute) | per chunk: compute, overhead "
        "| overhead / compute | call CPU (client+scheduler, worker) | CPU per chunk | CPU beyond c_cpu / c_cpu |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for k in ks:
        wall, comp, cs, cw = med[k]
        print(
            f"| {k} | {wall * 1e3:.1f} ms | {comp * 1e3:.1f} ms | {ovh[k] * 1e3:.1f} ms | {comp / k * 1e3:.3f} ms, "
            f"{ovh[k] / k * 1e3:.3f} ms | {avg[k] * 100:.1f}% | {cpu_call[k] * 1e3:.1f} ms ({cs * 1e3:.1f}, {cw * 1e3:.1f}) "
            f"| {cpu_call[k] / k * 1e3:.3f} ms | {avg_cpu[k] * 100:.1f}% |"
        )
    print(
        f"| marginal ({k1} -> {k2}) | | | slope {slope * 1e3:.3f} ms / chunk | c = {cc * 1e3:.3f} ms (pooled) "
        f"| {marginal * 100:.1f}% | slope {slope_cpu * 1e3:.3f} ms / chunk | c_cpu = {one_cpu * 1e3:.3f} ms | {marginal_cpu * 100:.1f}% |"
    )
    fixed = ovh[k1] - k1 * slope
    print(
        f"fixed overhead per call (intercept of the overhead over the two sizes): {fixed * 1e3:.1f} ms"
    )
    return {
        "ks": ks,
        "avg": avg,
        "marginal": marginal,
        "avg_cpu": avg_cpu,
        "marginal_cpu": marginal_cpu,
    }


def _uptime():
    return os.popen("uptime").read().strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--features", type=int, default=32)
    ap.add_argument("--chunk-rows", type=int, default=1_000_000)
    ap.add_argument(
        "--overhead-chunks",
        type=int,
        default=100,
        help="chunks for the overhead run (the average overhead is given here)",
    )
    ap.add_argument(
        "--overhead-chunks-2",
        type=int,
        default=300,
        help="more chunks for the overhead run (the average here, and the marginal cost between the two)",
    )
    ap.add_argument(
        "--overhead-rows", type=int, default=100_000, help="rows per chunk in the overhead run"
    )
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--jit",
        action="store_true",
        help="the loss as tg.jit(loss) (about half the compute per chunk)",
    )
    args = ap.parse_args()
    feats = args.features
    print(f"uptime before: {_uptime()}; loss: {'tg.jit(loss)' if args.jit else 'loss'}")
    print(
        f"cores: {os.cpu_count()}; tapegrad {tg.__version__}; client RSS {psutil.Process().memory_info().rss / 2**20:.0f} MiB"
    )

    # ---- 1. speed-up, 1 and 2 workers
    results = [_speedup_run(n, args) for n in (1, 2)]
    t1 = results[0][1]
    nchunks = -(-args.rows // args.chunk_rows)
    print()
    print(
        f"| workers | chunks per worker | gradient, {args.rows:.0e} x {feats} float32 rows, {nchunks} chunks (median) "
        "| speed-up | busiest worker's task compute | CPU per call: client+scheduler, busiest worker "
        "| speed-up in CPU time | client RSS change |"
    )
    print("|---|---|---|---|---|---|---|---|")
    cpu_one = results[0][6][1]
    for n, t, _, drss, busy, placement, cpu in results:
        print(
            f"| {n} | {placement} | {t:.3f} s | {t1 / t:.2f}x | {busy:.3f} s | {cpu[0] * 1e3:.1f} ms, {cpu[1] * 1e3:.1f} ms "
            f"| {cpu_one / cpu[1]:.2f}x | {drss / 2**20:+.1f} MiB |"
        )

    # ---- 2. overhead per chunk at --overhead-rows (10^5) rows per chunk, 1 worker
    ov = _overhead_run(args)

    payload = _payload(feats)
    part = tgd._group_value_and_grad(
        payload, 2, np.zeros((10, feats), np.float32), np.zeros(10, np.float32)
    )
    print()
    print(
        f"bytes per step: payload (loss + params, pickled) {len(cloudpickle.dumps(payload))} B per gradient task; "
        f"one partial result {len(cloudpickle.dumps(part))} B per task"
    )
    print(f"uptime after: {_uptime()}")
    print()
    print(
        f"TARGET speed-up, 2 workers vs 1 ({args.rows:.0e} x {feats} rows, {nchunks} chunks; target >= 1.7x): "
        f"{t1 / results[1][1]:.2f}x in wall time ({cpu_one / results[1][6][1]:.2f}x in the busiest worker's CPU time)"
    )
    k1, k2 = ov["ks"]
    print(
        f"TARGET overhead per chunk / chunk compute at {args.overhead_rows:.0e} rows per chunk (1 worker; target < 5%): "
        f"average {ov['avg'][k1] * 100:.1f}% at {k1} chunks, {ov['avg'][k2] * 100:.1f}% at {k2} chunks; "
        f"marginal {ov['marginal'] * 100:.1f}% ({k1} -> {k2} chunks), in wall time "
        f"(CPU time: average {ov['avg_cpu'][k1] * 100:.1f}% / {ov['avg_cpu'][k2] * 100:.1f}%, marginal {ov['marginal_cpu'] * 100:.1f}%)"
    )


if __name__ == "__main__":
    main()
