"""Logistic regression on 10^7 x 32 rows with tapegrad on Dask: data-parallel gradients, Adam.

The rows are generated on the workers (dask.array random), never on the client: each step sends
the 33 parameters to every worker, each worker computes the loss and gradient of the chunks it
holds with tapegrad, and the client receives one summed gradient. The client's memory does not
depend on --rows.

    python examples/dask_train.py                          # 10^7 rows on a 2-worker LocalCluster
    python examples/dask_train.py --rows 100000 --steps 5  # small
    python examples/dask_train.py --address tcp://scheduler:8786   # an existing cluster

Needs: pip install "tapegrad[dask]".
"""

from __future__ import annotations

import argparse
import time

import dask
import dask.array as da
import numpy as np
from dask.highlevelgraph import HighLevelGraph
from distributed import Client, LocalCluster, futures_of, wait
from toolz import identity

import tapegrad as tg
import tapegrad.dask as tgd

# Dask's background monitors are sized for machines with cores to spare; where every core runs a
# worker (a laptop's LocalCluster), each wakeup takes CPU from the gradients. Idle, a 2-worker
# LocalCluster used 128 ms of CPU per second with the defaults and 45 ms with these. Work stealing
# is off: the chunks are placed evenly, and a task stolen from a lagging worker copies its chunks
# (128 MB for 10^6 x 32 rows) to the thief, after which Dask may drop the original copy, leaving
# both chunks on one worker for the rest of the run (seen once on a loaded 2-core machine).
QUIET_CONFIG = {
    "distributed.admin.system-monitor.interval": "2s",  # psutil samples in every process (500 ms)
    "distributed.worker.memory.monitor-interval": "1s",  # each nanny's memory check (100 ms)
    "distributed.worker.profile.enabled": False,  # the 100 Hz stack sampler of each worker
    "distributed.admin.tick.interval": "200ms",  # the event loops' health tick (20 ms)
    "distributed.scheduler.work-stealing": False,
}


def local_cluster(n_workers):
    """A LocalCluster of `n_workers` processes with one task thread each (Dask's nanny sets
    OMP_NUM_THREADS=1 in each, which tapegrad.dask's tasks follow: one kernel thread), quiet
    monitors and no work stealing (set for this process, so that restarted workers get them
    too)."""
    dask.config.set(QUIET_CONFIG)
    return LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
    )


def make_data(rows, features, chunk_rows, seed=0):
    """x ~ N(0, 1) and labels y from a fixed true weight vector, as lazy Dask arrays: each chunk is
    drawn on the worker that computes it."""
    rng = da.random.default_rng(seed)
    x = rng.standard_normal((rows, features), chunks=(chunk_rows, features), dtype=np.float32)
    true_w = np.linspace(-1.0, 1.0, features, dtype=np.float32)
    noise = rng.logistic(size=(rows,), chunks=(chunk_rows,)).astype(np.float32)
    y = ((x @ true_w + 0.5 + noise) > 0).astype(np.float32)
    return x, y, true_w


def persist_evenly(client, *arrays):
    """Persist row-aligned Dask arrays with the same number of row chunks on each worker, and chunk
    i of every array on the same worker (consecutive chunks together). `client.persist` alone lets
    the scheduler place chunks where it likes: 10 chunks on 2 workers may land 6 and 4 (a speed-up
    of 10/6 = 1.67 at best), and x's chunk may be on one worker and y's on the other (a transfer in
    every step). Each row block of every array is computed on its worker, and the arrays returned
    hold those very results (no task after the placed one that the scheduler could run elsewhere:
    concatenating the placed blocks, as an earlier version did, made one more task per chunk,
    which a busy worker sometimes lost to the other). The placement is a restriction only while
    the chunks are first computed: lifted once they are in memory (`_lift_restrictions`), so a
    lost worker's chunks are recomputed wherever the scheduler likes."""
    workers = sorted(client.scheduler_info()["workers"])
    # one chunk across the other axes: a row block is then one key
    arrays = [a.rechunk({k: -1 for k in range(1, a.ndim)}) for a in arrays]
    n = arrays[0].numblocks[0]
    names = [f"placed-{dask.base.tokenize(a, 'persist_evenly')}" for a in arrays]
    held = [[] for _ in arrays]
    for i in range(n):
        w = workers[i * len(workers) // n]
        blocks = client.persist(
            [a.blocks[i] for a in arrays], workers=[w], allow_other_workers=True
        )
        for k, (a, b) in enumerate(zip(arrays, blocks)):
            (block,) = futures_of(b)
            held[k].append(
                client.submit(
                    identity,  # (from toolz, which Dask needs: importable on every worker)
                    block,
                    key=(names[k], i) + (0,) * (a.ndim - 1),
                    workers=[w],
                    allow_other_workers=True,
                    pure=False,
                )
            )
    wait([f for fs in held for f in fs])
    client.run_on_scheduler(_lift_restrictions, [f.key for fs in held for f in fs])
    return [
        da.Array(
            HighLevelGraph.from_collections(name, {f.key: f for f in fs}, dependencies=()),
            name,
            chunks=a.chunks,
            dtype=a.dtype,
            meta=a._meta,
        )
        for name, a, fs in zip(names, arrays, held)
    ]


def _lift_restrictions(keys, dask_scheduler=None):
    """Forget the worker restrictions of placed tasks (run on the scheduler). Dask keeps a task's
    restriction for its whole life, and a loose one (allow_other_workers=True) only lets the task go
    elsewhere while a worker is running: when every worker is lost at once (a killed job, a cluster
    restarted), the scheduler never hands the recomputation of a task restricted to a dead address
    to the new workers (distributed 2026.8's bulk_schedule_unrunnable_after_adding_worker checks the
    restriction, not its looseness), and everything waiting on that chunk waits for ever."""
    todo = [dask_scheduler.tasks[k] for k in keys if k in dask_scheduler.tasks]
    seen = set()
    while todo:  # the placed tasks and everything they were computed from
        ts = todo.pop()
        if ts.key in seen:
            continue
        seen.add(ts.key)
        if ts.loose_restrictions:
            ts.worker_restrictions = None
            ts.loose_restrictions = False
        todo.extend(ts.dependencies)


def loss(w, b, x, y):
    """Mean binary cross-entropy of a logistic model over one chunk (written for logits)."""
    z = x @ w + b
    return (tg.softplus(z) - y * z).mean()


def train(client, rows, features, chunk_rows, steps, lr, optimizer="adam", persist=True, log=print):
    x, y, true_w = make_data(rows, features, chunk_rows)
    if persist:  # generate once, keep on the workers (about rows * features * 4 bytes in all)
        t0 = time.perf_counter()
        x, y = persist_evenly(client, x, y)
        log(
            f"generated {rows} x {features} rows on the workers in {time.perf_counter() - t0:.1f} s"
        )
    w = tg.Parameter(tg.zeros(features), name="w")
    b = tg.Parameter(tg.zeros(()), name="b")
    opt = (
        tg.nn.Adam([w, b], learning_rate=lr)
        if optimizer == "adam"
        else tg.nn.SGD([w, b], learning_rate=lr)
    )
    history = []
    for step in range(steps):
        t0 = time.perf_counter()
        value, grads = tgd.value_and_grad(loss, (w, b), x, y, reduce="mean")
        opt(grads)
        history.append(float(value))
        log(f"step {step:3d}  loss {float(value):.5f}  {time.perf_counter() - t0:.3f} s")
    return w, b, true_w, history


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--features", type=int, default=32)
    ap.add_argument(
        "--chunk-rows",
        type=int,
        default=None,
        help="rows per chunk (default: rows / 20, at most 10^6)",
    )
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    ap.add_argument(
        "--workers", type=int, default=2, help="LocalCluster workers (ignored with --address)"
    )
    ap.add_argument("--address", default=None, help="scheduler address of an existing cluster")
    ap.add_argument("--no-persist", action="store_true", help="regenerate the rows in every step")
    args = ap.parse_args(argv)
    chunk_rows = args.chunk_rows or max(1, min(1_000_000, -(-args.rows // 20)))

    if args.address:
        client, cluster = Client(args.address), None
    else:
        cluster = local_cluster(args.workers)
        client = Client(cluster)
    try:
        w, b, true_w, history = train(
            client,
            args.rows,
            args.features,
            chunk_rows,
            args.steps,
            args.lr,
            args.optimizer,
            persist=not args.no_persist,
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    corr = float(np.corrcoef(w.asnumpy(), true_w)[0, 1])
    print(
        f"final loss {history[-1]:.5f} (first {history[0]:.5f}); corr(w, true w) = {corr:.3f}; b = {float(b):.3f}"
    )
    return history


if __name__ == "__main__":
    main()
