"""tapegrad.dask on a real 2-process LocalCluster (started here), against single-process results:
value_and_grad (sum and mean, several chunkings, several params), map_vmap (jacrev, grad,
hessian per row), a worker killed in the middle of a gradient, jitted losses on the workers,
Tensor serialisation, the examples, and the argument checks (on the synchronous scheduler)."""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tapegrad as tg

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")
tgd = pytest.importorskip("tapegrad.dask")

ROOT = Path(__file__).resolve().parent.parent
TAPEGRAD_PATH = str(Path(tg.__file__).resolve().parent.parent)


@pytest.fixture(scope="module")
def client():
    # The workers import the same tapegrad as this process, and this module's functions travel by
    # value (the workers cannot import tests/).
    old_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (TAPEGRAD_PATH, old_path) if p)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    # Dask's background monitors quieter, as examples/dask_train.py's local_cluster (on a small CI
    # machine every core runs a worker; work stealing stays on here); set for the whole module, so
    # restarted workers get it.
    quiet = dask.config.set(
        {
            "distributed.admin.system-monitor.interval": "2s",
            "distributed.worker.memory.monitor-interval": "1s",
            "distributed.worker.profile.enabled": False,
            "distributed.admin.tick.interval": "200ms",
        }
    )
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()
        quiet.__exit__(None, None, None)
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        if old_path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old_path


def _data(rows=1000, features=5, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features)).astype(dtype)
    y = (rng.random(rows) < 0.5).astype(dtype)
    return x, y


def _logistic_sum(w, b, x, y):
    z = x @ w + b
    return (tg.softplus(z) - y * z).sum()


def _logistic_mean(w, b, x, y):
    z = x @ w + b
    return (tg.softplus(z) - y * z).mean()


def _params(features=5, dtype=tg.float64):
    w = tg.tensor(np.linspace(-0.5, 0.5, features), dtype=dtype)
    b = tg.tensor(0.25, dtype=dtype)
    return w, b


def _close(a, b, rtol=1e-10, atol=1e-10):
    np.testing.assert_allclose(
        np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), rtol=rtol, atol=atol
    )


CHUNKINGS = {"even": 250, "uneven": (100, 333, 7, 560), "single": 1000}


@pytest.mark.parametrize("chunks", list(CHUNKINGS.values()), ids=list(CHUNKINGS))
@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_value_and_grad_matches_single_process(client, chunks, reduce):
    x, y = _data()
    w, b = _params()
    loss = _logistic_sum if reduce == "sum" else _logistic_mean
    want_v, want_g = tg.value_and_grad(loss, grad_position=(0, 1))(w, b, x, y)
    dx = da.from_array(x, chunks=(chunks, 5))
    dy = da.from_array(y, chunks=chunks)
    v, (gw, gb) = tgd.value_and_grad(loss, (w, b), dx, dy, reduce=reduce)
    assert v.dtype == tg.float64 and v.shape == ()
    assert gw.shape == (5,) and gb.shape == () and gw.dtype == tg.float64
    _close(v, want_v)
    _close(gw, want_g[0])
    _close(gb, want_g[1])


def test_float32_params_and_data(client):
    x, y = _data(dtype=np.float32)
    w, b = _params(dtype=tg.float32)
    want_v, want_g = tg.value_and_grad(_logistic_mean, grad_position=(0, 1))(w, b, x, y)
    v, grads = tgd.value_and_grad(
        _logistic_mean,
        [w, b],
        da.from_array(x, chunks=(128, 5)),
        da.from_array(y, chunks=128),
        reduce="mean",
    )
    assert v.dtype == tg.float32 and grads[0].dtype == tg.float32 and grads[1].dtype == tg.float32
    _close(v, want_v, rtol=1e-5)
    _close(grads[0], want_g[0], rtol=1e-4, atol=1e-6)
    _close(grads[1], want_g[1], rtol=1e-4, atol=1e-6)


def test_single_param_and_params_of_every_kind(client):
    x, y = _data(rows=300)
    dx, dy = da.from_array(x, chunks=(64, 5)), da.from_array(y, chunks=64)
    w0 = np.linspace(-0.5, 0.5, 5)

    def loss(w, x, y):
        return ((x @ w - y) ** 2).sum()

    want = tg.grad(loss)(tg.tensor(w0), x, y)
    for w in (tg.tensor(w0), tg.Parameter(tg.tensor(w0), name="w"), w0):
        _, g = tgd.value_and_grad(loss, w, dx, dy)
        assert isinstance(g, tg.Tensor)
        _close(g, want)
    # a Python float is a float32 scalar, as in tg.grad
    _, g = tgd.value_and_grad(lambda s, x, y: (s * x).sum(), 2.0, dx, dy)
    assert g.dtype == tg.float32 and g.shape == ()
    _close(g, x.sum(), rtol=1e-6)


def test_mismatched_row_chunks_are_rechunked(client):
    x, y = _data(rows=400)
    w, b = _params()
    want_v, want_g = tg.value_and_grad(_logistic_sum, grad_position=(0, 1))(w, b, x, y)
    dx = da.from_array(x, chunks=((150, 250), (2, 3)))  # also chunked across columns
    dy = da.from_array(y, chunks=100)
    v, g = tgd.value_and_grad(_logistic_sum, (w, b), dx, dy)
    _close(v, want_v)
    _close(g[0], want_g[0])


def test_three_arrays_and_a_matrix_param(client):
    rng = np.random.default_rng(1)
    x, t, s = rng.standard_normal((500, 4)), rng.standard_normal((500, 3)), rng.random(500)
    W = tg.tensor(rng.standard_normal((4, 3)))

    def loss(W, x, t, s):
        return (((x @ W - t) ** 2).sum(axis=1) * s).sum()

    want_v, want_g = tg.value_and_grad(loss)(W, x, t, s)
    v, (g,) = tgd.value_and_grad(loss, (W,), *(da.from_array(a, chunks=90) for a in (x, t, s)))
    _close(v, want_v)
    _close(g, want_g)


def test_data_generated_on_the_workers(client):
    # Lazily generated rows (nothing on the client): the chunks are made where they are used.
    rng = da.random.default_rng(3)
    x = rng.standard_normal((2000, 4), chunks=(500, 4))
    y = (x.sum(axis=1) > 0).astype(np.float64)
    w, b = _params(features=4)
    v, g = tgd.value_and_grad(_logistic_mean, (w, b), x, y, reduce="mean")
    xl, yl = dask.compute(x, y)
    want_v, want_g = tg.value_and_grad(_logistic_mean, grad_position=(0, 1))(w, b, xl, yl)
    _close(v, want_v)
    _close(g[0], want_g[0])


def _first(flag):
    """True for exactly one caller, in whichever worker process gets there first (two workers
    testing and then writing a flag could both find it missing: both would die)."""
    try:
        os.close(os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def test_worker_killed_during_the_gradient_still_gives_the_right_answer(client, tmp_path):
    flag = str(tmp_path / "killed-once")
    x, y = _data(rows=600)
    w, b = _params()

    def loss(w, b, x, y):
        if _first(flag):
            # Past one cycle of Dask's active memory manager (2 s), which drops extra replicas: the
            # parameters may now be on this worker only, and must be recomputed, not lost.
            time.sleep(2.5)
            os.kill(os.getpid(), signal.SIGKILL)  # this worker process dies mid-task
        return _logistic_sum(w, b, x, y)

    v, g = tgd.value_and_grad(
        loss, (w, b), da.from_array(x, chunks=100), da.from_array(y, chunks=100)
    )
    assert os.path.exists(flag)  # a worker did die
    want_v, want_g = tg.value_and_grad(_logistic_sum, grad_position=(0, 1))(w, b, x, y)
    _close(v, want_v)
    _close(g[0], want_g[0])
    _close(g[1], want_g[1])
    client.wait_for_workers(2, timeout=60)


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_persisted_chunks_are_grouped_per_worker_and_match(client, reduce):
    x, y = _data(rows=1000)
    w, b = _params()
    loss = _logistic_sum if reduce == "sum" else _logistic_mean
    want_v, want_g = tg.value_and_grad(loss, grad_position=(0, 1))(w, b, x, y)
    dx, dy = client.persist(
        [
            da.from_array(x, chunks=((90, 10, 300, 0, 600), (5,))),
            da.from_array(y, chunks=((90, 10, 300, 0, 600),)),
        ]
    )
    assert tgd._persisted_blocks(client, [dx, dy]) is not None
    v, g = tgd.value_and_grad(loss, (w, b), dx, dy, reduce=reduce)
    _close(v, want_v)
    _close(g[0], want_g[0])
    _close(g[1], want_g[1])
    # half persisted, half lazy: the per-chunk path
    v, g = tgd.value_and_grad(
        loss, (w, b), dx, da.from_array(y, chunks=((90, 10, 300, 0, 600),)), reduce=reduce
    )
    _close(g[0], want_g[0])


def test_worker_killed_during_a_grouped_gradient(client, tmp_path):
    flag = str(tmp_path / "killed-once")
    x, y = _data(rows=600)
    w, b = _params()
    dx, dy = client.persist([da.from_array(x, chunks=50), da.from_array(y, chunks=50)])

    def loss(w, b, x, y):
        if _first(flag):
            os.kill(os.getpid(), signal.SIGKILL)
        return _logistic_sum(w, b, x, y)

    v, g = tgd.value_and_grad(loss, (w, b), dx, dy)
    assert os.path.exists(flag)
    want_v, want_g = tg.value_and_grad(_logistic_sum, grad_position=(0, 1))(w, b, x, y)
    _close(v, want_v)
    _close(g[0], want_g[0])
    client.wait_for_workers(2, timeout=60)


def test_a_grouped_call_is_one_graph_of_few_tasks(client, monkeypatch):
    # 40 persisted chunks on 2 workers of one thread: one gradient task per worker over all of its
    # chunks, no combine task (the client adds the partial results), and the chunks' places
    # asked once.
    x, y = _data(rows=800)
    w, b = _params()
    dx, dy = client.persist([da.from_array(x, chunks=20), da.from_array(y, chunks=20)])
    distributed.wait([dx, dy])
    want_v, want_g = tg.value_and_grad(_logistic_sum, grad_position=(0, 1))(w, b, x, y)
    monkeypatch.setattr(tgd, "_WHO_HAS_TTL_S", 3600.0)
    monkeypatch.setattr(tgd, "_DIRECT", False)  # (the graph path; the direct one: tests below)
    with distributed.get_task_stream(client) as ts:
        v, g = tgd.value_and_grad(_logistic_sum, (w, b), dx, dy)
    _close(v, want_v)
    _close(g[0], want_g[0])
    _close(g[1], want_g[1])
    keys = [str(t["key"]) for t in ts.data if "tapegrad-" in str(t["key"])]
    per_worker = [sum(1 for k in ks if k[0] == dx.name) for ks in client.has_what().values()]
    assert len(keys) == sum(1 for n in per_worker if n), keys
    assert all(k.startswith("tapegrad-grad-") for k in keys), keys

    def no_round_trip(*args, **kwargs):
        raise AssertionError("who_has asked again within the cache's lifetime")

    monkeypatch.setattr(client, "who_has", no_round_trip)
    first = [f.key for f in client._tapegrad_dask_last]
    assert all(client.refcount[k] == 1 for k in first)  # held until the next call's graph is sent
    v, g = tgd.value_and_grad(_logistic_sum, (w, b), dx, dy)
    _close(g[0], want_g[0])
    assert all(client.refcount.get(k, 0) == 0 for k in first)  # then released
    assert set(first).isdisjoint(f.key for f in client._tapegrad_dask_last)


def _together(client, x, y, chunks):
    """x and y persisted with chunk i of both on one worker, consecutive chunks together."""
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import dask_train
    finally:
        sys.path.remove(str(ROOT / "examples"))
    return dask_train.persist_evenly(
        client, da.from_array(x, chunks=(chunks, -1)), da.from_array(y, chunks=chunks)
    )


def _want(x, y, w, b, loss=_logistic_sum):
    return tg.value_and_grad(loss, grad_position=(0, 1))(w, b, x, y)


def _check(got, want):
    _close(got[0], want[0])
    _close(got[1][0], want[1][0])
    _close(got[1][1], want[1][1])


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_chunks_together_go_straight_to_the_workers(client, monkeypatch, reduce):
    # Every chunk's blocks on one worker: one request per worker to its actor, no task at all,
    # and the chunks' places asked once (within the cache's lifetime).
    x, y = _data(rows=900)
    w, b = _params()
    dx, dy = _together(client, x, y, 50)
    loss = _logistic_sum if reduce == "sum" else _logistic_mean
    want = _want(x, y, w, b, loss)
    monkeypatch.setattr(tgd, "_WHO_HAS_TTL_S", 3600.0)
    tgd._WHO_HAS.clear()
    with distributed.get_task_stream(client) as ts:
        got = tgd.value_and_grad(loss, (w, b), dx, dy, reduce=reduce)
    _check(got, want)
    assert tgd._LAST_CALL["path"] == "direct"
    assert len(tgd._LAST_CALL["compute_s"]) == 2  # one group per worker thread
    assert not [t for t in ts.data if str(t["key"]).startswith("tapegrad-grad")]

    def no_round_trip(*args, **kwargs):
        raise AssertionError("who_has asked again within the cache's lifetime")

    monkeypatch.setattr(client, "who_has", no_round_trip)
    actors = dict(client._tapegrad_dask_actors)
    with distributed.get_task_stream(client) as ts:
        got = tgd.value_and_grad(loss, (w, b), dx, dy, reduce=reduce)
    _check(got, want)
    assert tgd._LAST_CALL["path"] == "direct"
    assert client._tapegrad_dask_actors == actors  # made once per client and worker
    assert not [t for t in ts.data if "tapegrad-" in str(t["key"])]


def test_direct_path_falls_back_when_blocks_are_apart(client):
    # x's chunks on one worker and y's on the other: the graph path, which moves the blocks.
    x, y = _data(rows=400)
    w, b = _params()
    a, c = sorted(client.scheduler_info()["workers"])
    dx = client.persist(da.from_array(x, chunks=100), workers=[a])
    dy = client.persist(da.from_array(y, chunks=100), workers=[c])
    distributed.wait([dx, dy])
    tgd._WHO_HAS.clear()
    _check(tgd.value_and_grad(_logistic_sum, (w, b), dx, dy), _want(x, y, w, b))
    assert tgd._LAST_CALL["path"] == "graph"


def test_direct_path_falls_back_when_a_chunk_is_not_where_expected(client, monkeypatch):
    # The cached places are stale (here: every group sent to the other worker): the actors find
    # the chunks missing, the call is redone as a graph, and the places are asked again.
    x, y = _data(rows=400)
    w, b = _params()
    dx, dy = _together(client, x, y, 50)
    monkeypatch.setattr(tgd, "_WHO_HAS_TTL_S", 3600.0)
    tgd._WHO_HAS.clear()
    want = _want(x, y, w, b)
    _check(tgd.value_and_grad(_logistic_sum, (w, b), dx, dy), want)
    assert tgd._LAST_CALL["path"] == "direct"
    ((key, (t, groups)),) = tgd._WHO_HAS.items()
    a, c = sorted({g[0] for g in groups})
    tgd._WHO_HAS[key] = (t, [(c if g[0] == a else a, g[1]) for g in groups])
    _check(tgd.value_and_grad(_logistic_sum, (w, b), dx, dy), want)
    assert tgd._LAST_CALL["path"] == "graph"
    assert not tgd._WHO_HAS  # asked again next time
    _check(tgd.value_and_grad(_logistic_sum, (w, b), dx, dy), want)
    assert tgd._LAST_CALL["path"] == "direct"


def test_direct_path_falls_back_on_an_error_in_the_actor(client, tmp_path):
    # The loss fails once (on the direct path): the graph path redoes the call and gets it right;
    # a loss that always fails raises its own error (from the graph path).
    flag = str(tmp_path / "failed-once")
    x, y = _data(rows=400)
    w, b = _params()
    dx, dy = _together(client, x, y, 100)

    def loss(w, b, x, y):
        if not os.path.exists(flag):
            with open(flag, "w") as f:
                f.write("x")
            raise RuntimeError("once")
        return _logistic_sum(w, b, x, y)

    tgd._WHO_HAS.clear()
    _check(tgd.value_and_grad(loss, (w, b), dx, dy), _want(x, y, w, b))
    assert os.path.exists(flag)
    assert tgd._LAST_CALL["path"] == "graph"

    def bad(w, b, x, y):
        raise ZeroDivisionError("always")

    with pytest.raises(ZeroDivisionError, match="always"):
        tgd.value_and_grad(bad, (w, b), dx, dy)
    _check(tgd.value_and_grad(_logistic_sum, (w, b), dx, dy), _want(x, y, w, b))
    assert tgd._LAST_CALL["path"] == "direct"  # actors made afresh


def test_worker_killed_during_a_direct_call(client, tmp_path):
    # The worker dies under its actor: the graph path recomputes its chunks elsewhere (or on the
    # restarted worker) and gives the right answer; later calls go direct again.
    flag = str(tmp_path / "killed-once")
    x, y = _data(rows=600)
    w, b = _params()
    dx, dy = _together(client, x, y, 50)

    def loss(w, b, x, y):
        if _first(flag):
            os.kill(os.getpid(), signal.SIGKILL)
        return _logistic_sum(w, b, x, y)

    tgd._WHO_HAS.clear()
    want = _want(x, y, w, b)
    _check(tgd.value_and_grad(loss, (w, b), dx, dy), want)
    assert os.path.exists(flag)
    assert tgd._LAST_CALL["path"] == "graph"
    client.wait_for_workers(2, timeout=60)
    _check(tgd.value_and_grad(loss, (w, b), dx, dy), want)


def test_every_worker_killed_during_a_direct_call(client, tmp_path):
    # Both workers die at once under their actors (each takes one of two slots, then dies): the
    # chunks, placed by persist_evenly, are recomputed on the restarted workers. (Placement left
    # as a loose restriction on a dead address made Dask keep them waiting for ever.) A cluster of
    # its own, as below: whether a nanny brings its worker back after such a double death is
    # Dask's business (one did not, once, within 60 s on this loaded machine), and the other tests
    # need two workers.
    slots = [str(tmp_path / f"slot-{i}") for i in range(2)]
    x, y = _data(rows=600, seed=11)
    w, b = _params()

    def loss(w, b, x, y):
        if any(_first(s) for s in slots):
            os.kill(os.getpid(), signal.SIGKILL)
        return _logistic_sum(w, b, x, y)

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        dx, dy = _together(c, x, y, 50)
        tgd._WHO_HAS.clear()
        _check(tgd.value_and_grad(loss, (w, b), dx, dy), _want(x, y, w, b))
        assert all(os.path.exists(s) for s in slots)
        assert tgd._LAST_CALL["path"] == "graph"
    tgd._WHO_HAS.clear()


def test_direct_call_gives_up_on_a_worker_that_left(client, monkeypatch):
    # A worker that leaves the cluster without its connection closing (a host lost): the waiting
    # direct call notices it from the scheduler within _DIRECT_WATCH_S and the graph path redoes it.
    x, y = _data(rows=400, seed=7)
    w, b = _params()
    dx, dy = _together(client, x, y, 100)
    tgd._WHO_HAS.clear()
    want = _want(x, y, w, b)
    _check(tgd.value_and_grad(_logistic_sum, (w, b), dx, dy), want)
    assert tgd._LAST_CALL["path"] == "direct", tgd._LAST_CALL
    gone = next(iter(tgd._LAST_CALL["compute_s"]))  # a worker the call went to
    real_ncores = client.scheduler.ncores

    async def ncores_without(**kwargs):
        alive = await real_ncores(**kwargs)
        alive.pop(gone, None)
        return alive

    def slow(w, b, x, y):
        time.sleep(0.5)
        return _logistic_sum(w, b, x, y)

    monkeypatch.setattr(tgd, "_DIRECT_WATCH_S", 0.1)
    monkeypatch.setattr(client.scheduler, "ncores", ncores_without, raising=False)
    _check(tgd.value_and_grad(slow, (w, b), dx, dy), want)
    assert tgd._LAST_CALL == {"path": "graph", "why": "_WorkerLost: "}


def test_direct_path_on_a_worker_of_two_threads(client):
    # One worker, two task threads: its chunks go as two groups, computed at once on its threads.
    # (A cluster of its own, started while the `client` fixture's settings hold: its worker
    # imports this tapegrad, and this module's functions travel by value.)
    x, y = _data(rows=700)
    w, b = _params()
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=2,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        dx, dy = c.persist([da.from_array(x, chunks=(100, -1)), da.from_array(y, chunks=100)])
        distributed.wait([dx, dy])
        tgd._WHO_HAS.clear()
        groups = tgd._group_by_worker(c, tgd._persisted_blocks(c, [dx, dy]))
        assert [len(g) for _, g in groups] == [3, 4]
        for reduce, loss in (("sum", _logistic_sum), ("mean", _logistic_mean)):
            _check(tgd.value_and_grad(loss, (w, b), dx, dy, reduce=reduce), _want(x, y, w, b, loss))
            assert tgd._LAST_CALL["path"] == "direct"
    tgd._WHO_HAS.clear()


def test_chunks_with_copies_on_several_workers_are_spread():
    # A chunk copied to a second worker goes to whichever holder has fewer chunks so far.
    class Key:
        def __init__(self, key):
            self.key = key

    class FakeClient:
        id = "fake-client-for-grouping"

        def who_has(self, futures):
            return {"c0": ("A", "B"), "c1": ("A", "B"), "c2": ("A",), "c3": ("B", "A")}

        def nthreads(self):
            return {"A": 1, "B": 1}

    held = [[Key(f"c{i}") for i in range(4)]]
    groups = tgd._group_by_worker(FakeClient(), held)
    tgd._WHO_HAS.clear()
    assert sorted(groups) == [("A", [0, 2]), ("B", [1, 3])]


def test_one_group_per_worker_thread():
    # A worker's chunks are split evenly, consecutive chunks together, into one task per thread
    # of that worker (never an empty group, whatever the thread count).
    class Key:
        def __init__(self, key):
            self.key = key

    class FakeClient:
        id = "fake-client-for-threads"

        def who_has(self, futures):
            return {f"c{i}": ("A",) if i < 7 else ("B",) for i in range(9)}

        def nthreads(self):
            return {"A": 3, "B": 4}

    held = [[Key(f"c{i}") for i in range(9)]]
    groups = tgd._group_by_worker(FakeClient(), held)
    tgd._WHO_HAS.clear()
    assert groups == [("A", [0, 1]), ("A", [2, 3]), ("A", [4, 5, 6]), ("B", [7]), ("B", [8])]


def test_combine_tree_over_many_groups():
    # More groups than split_every: combine tasks down to at most split_every partial results.
    payload = (tgd._Fn(_logistic_sum), [np.zeros(5), np.zeros(())], False)
    held = [[f"x-{i}" for i in range(20)], [f"y-{i}" for i in range(20)]]
    graph, last = tgd._grouped_graph(payload, held, [(None, [i]) for i in range(20)], 3)
    kinds = [k.split("-")[1] for k in graph]
    assert kinds.count("grad") == 20 and kinds.count("combine") == 7 + 3  # 20 -> 7 -> 3
    assert len(last) == 3 and all(k in graph for k in last)
    assert "params" not in kinds  # small parameters go inside each task


def test_large_params_are_one_task_of_the_graph(client, monkeypatch):
    # Parameters over _INLINE_PAYLOAD_BYTES: one task holding them, fetched by the gradient tasks
    # (on the graph path; the direct one sends them in each worker's request).
    monkeypatch.setattr(tgd, "_DIRECT", False)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 5))
    big = rng.standard_normal((5, 2000))  # 80 kB of float64
    assert big.nbytes > tgd._INLINE_PAYLOAD_BYTES

    def loss(m, x):
        return tg.tanh(x @ m).sum()

    dx = client.persist(da.from_array(x, chunks=50))
    distributed.wait(dx)
    with distributed.get_task_stream(client) as ts:
        v, g = tgd.value_and_grad(loss, tg.tensor(big), dx)
    assert any("tapegrad-params-" in str(t["key"]) for t in ts.data)
    want_v, want_g = tg.value_and_grad(loss)(tg.tensor(big), x)
    _close(v, want_v, rtol=1e-9)
    _close(g, want_g, rtol=1e-9)


@pytest.mark.parametrize("direct", [False, True])
def test_the_scheduler_keeps_the_loss_as_bytes(client, monkeypatch, direct):
    # The scheduler unpickles the graph but never the user's function; the workers load it. (On
    # the direct path the loss goes to the workers only: the scheduler has not even its bytes.)
    monkeypatch.setattr(tgd, "_DIRECT", direct)
    scale = 1.0 + time.time() % 1.0 + direct  # a closure no other test sends
    loss = lambda w, x: (x @ w).sum() * scale
    digest = tgd._Fn(loss).__reduce__()[1][0]
    dx = client.persist(da.ones((100, 3), chunks=10))
    distributed.wait(dx)
    tgd._WHO_HAS.clear()  # (the same keys as in the other run: their cached places are stale)
    v, _ = tgd.value_and_grad(loss, tg.ones(3, dtype=tg.float64), dx)
    _close(v, 300.0 * scale)
    assert tgd._LAST_CALL["path"] == ("direct" if direct else "graph")

    def loaded(digest):
        import tapegrad.dask

        return [h._fn is not None for h in tapegrad.dask._FN_CACHE.values() if h._digest == digest]

    assert client.run_on_scheduler(loaded, digest) == ([] if direct else [False])
    assert [True] in client.run(loaded, digest).values()


def test_example_persist_evenly_places_chunks_together(client, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    import dask_train

    x, y, _ = dask_train.make_data(4000, 3, 500)
    px, py = dask_train.persist_evenly(client, x, y)
    where = {}
    for worker, keys in client.has_what().items():
        for k in keys:
            if k[0] in (px.name, py.name):
                where.setdefault(k[1], set()).add(worker)
    assert sorted(where) == list(range(8))
    assert all(len(ws) == 1 for ws in where.values())  # x's and y's chunk i together
    counts = {}
    for ws in where.values():
        counts[next(iter(ws))] = counts.get(next(iter(ws)), 0) + 1
    assert sorted(counts.values()) == [4, 4]
    np.testing.assert_array_equal(px.compute(), x.compute())
    np.testing.assert_array_equal(py.compute(), y.compute())


def test_jitted_loss_records_once_per_worker_and_replays(client):
    x, y = _data(rows=400)
    w, b = _params()
    loss = tg.jit(_logistic_sum)
    dx, dy = da.from_array(x, chunks=100), da.from_array(y, chunks=100)
    for _ in range(2):
        v, g = tgd.value_and_grad(loss, (w, b), dx, dy)
    want_v, want_g = tg.value_and_grad(_logistic_sum, grad_position=(0, 1))(w, b, x, y)
    _close(v, want_v)
    _close(g[0], want_g[0])

    def jit_stats():
        import tapegrad.dask

        # A jitted loss is differentiated as tg.jit(value_and_grad(loss)), made once per worker.
        return [
            f.cache_info()
            for h in tapegrad.dask._FN_CACHE.values()
            for f in h._chunk_fns.values()
            if hasattr(f, "cache_info")
        ]

    stats = [s for per_worker in client.run(jit_stats).values() for s in per_worker]
    assert stats, "the jitted loss was not kept on any worker"
    # 8 chunk gradients in all, each worker recorded each signature once and replayed the rest
    assert sum(s["replays"] for s in stats) >= 8 - 2 * sum(s["records"] for s in stats) >= 0
    assert all(s["records"] <= 2 for s in stats)


def test_workers_run_tapegrad_kernels_on_omp_num_threads(client):
    # Dask's nanny sets OMP_NUM_THREADS=1 in each worker; after a tapegrad.dask task the kernel
    # pool follows it (no oversubscription of the cores by task threads x kernel threads).
    x = da.ones((8, 2), chunks=1)
    tgd.value_and_grad(lambda w, x: (x @ w).sum(), tg.zeros(2), x)

    def state():
        import tapegrad.dask

        return (
            os.environ.get("OMP_NUM_THREADS"),
            tapegrad.get_num_threads(),
            bool(tapegrad.dask._THREADS_SET),
        )

    seen = [s for s in client.run(state).values() if s[2]]
    assert seen, "no worker ran a tapegrad.dask task"
    for omp, threads, _ in seen:
        if omp is not None and omp.isdigit():
            assert threads == min(int(omp), os.cpu_count())


def test_jit_function_pickles_to_a_worker_and_records_there(client):
    k = tg.tensor(3.0)
    f = tg.jit(lambda x: (x * k).sum())

    def run(f):
        a = f(tg.ones(4)).item()
        b = f(tg.ones(4) * 2).item()
        info = f.cache_info()
        return a, b, info["records"], info["replays"]

    assert client.submit(run, f, pure=False).result() == (12.0, 24.0, 1, 1)


def test_map_vmap_jacrev_grad_hessian_per_row(client):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 3))
    dx = da.from_array(x, chunks=(70, 3))

    def f(r):
        return (tg.sin(r) * r).sum()

    def g(r):
        return tg.sin(r) * r[0]

    for fn in (tg.grad(f), tg.jacrev(g), tg.hessian(f)):
        out = tgd.map_vmap(fn, dx)
        want = tg.vmap(fn)(x).asnumpy()
        assert out.shape == want.shape and out.dtype == want.dtype
        assert out.chunks[0] == dx.chunks[0]
        _close(out.compute(), want)


def test_map_vmap_two_arrays_and_given_out_shape(client):
    rng = np.random.default_rng(4)
    w = tg.tensor(rng.standard_normal(3))
    x, y = rng.standard_normal((200, 3)), rng.random(200)

    def per_example_grad(x, y):
        return tg.grad(lambda w: (tg.dot(x, w) - y) ** 2)(w)

    dx, dy = da.from_array(x, chunks=50), da.from_array(y, chunks=(80, 120))
    out = tgd.map_vmap(per_example_grad, dx, dy, out_shape=(3,), dtype="float64")
    want = tg.vmap(per_example_grad)(x, y).asnumpy()
    _close(out.compute(), want)


def test_without_registration_tensors_travel_as_out_of_band_pickle():
    # Dask's pickle family (protocol 5 with a buffer callback): the values are their own frame.
    from distributed.protocol import deserialize, serialize

    t = tg.arange(1000.0)
    header, frames = serialize(t, serializers=["pickle"])
    assert header["serializer"] == "pickle"
    assert any(memoryview(f).nbytes == 4000 for f in frames)
    assert deserialize(header, frames).tolist() == t.tolist()


def test_tensors_travel_as_raw_frames(client):
    from distributed.protocol import deserialize, serialize

    assert tgd.register_serialization(client) is True
    t = tg.arange(1000.0)
    header, frames = serialize(t)
    assert header["serializer"] == "dask"
    assert sum(memoryview(f).nbytes for f in frames) < 4000 + 200
    assert np.shares_memory(np.frombuffer(frames[-1], np.float32), np.asarray(t))  # no copy
    back = deserialize(header, [bytearray(f) for f in frames])
    assert back.tolist() == t.tolist()
    w = tg.Parameter(tg.ones(3), name="w", requires_grad=False)
    back = deserialize(*serialize(w))
    assert type(back) is tg.Parameter and back.name == "w" and back.requires_grad is False

    def double(t):
        return t * 2, type(t).__name__

    r, kind = client.submit(double, t, pure=False).result()
    assert (
        kind == "Tensor"
        and isinstance(r, tg.Tensor)
        and r.tolist() == (np.arange(1000.0) * 2).tolist()
    )
    r, kind = client.submit(double, tg.arange(6.0).reshape(2, 3)[:, ::2], pure=False).result()
    assert r.tolist() == [[0.0, 4.0], [6.0, 10.0]]


@pytest.mark.parametrize(
    ("header", "frames", "match"),
    [
        ({"dtype": "float32", "shape": [3]}, [b"\x00" * 8], "needs 12 bytes"),
        ({"dtype": "float32", "shape": [-1]}, [b""], "bad shape"),
        ({"dtype": "float32", "shape": "3"}, [b""], "bad shape"),
        ({"dtype": "complex256", "shape": [1]}, [b"\x00" * 8], "bad dtype"),
        ({"dtype": "float32", "shape": [1]}, [b"\x00" * 4, b""], "one frame"),
    ],
)
def test_malformed_serialised_tensor_raises(header, frames, match):
    with pytest.raises(ValueError, match=match):
        tgd._deserialize_tensor(header, frames)


def test_dask_sizeof_counts_a_tensors_bytes():
    from dask.sizeof import sizeof

    assert sizeof(tg.zeros(1000)) >= 4000
    assert sizeof(tg.zeros((10, 100), dtype=tg.float64)) >= 8000
    assert sizeof(tg.Parameter(tg.zeros(1000), name="w")) >= 4000


def test_deserialised_tensor_copies_read_only_frames():
    t = tg.arange(3.0)
    header, frames = tgd._serialize_tensor(t)
    frozen = bytes(frames[0])
    back = tgd._deserialize_tensor(header, [frozen])
    back[0] = 9.0
    assert np.frombuffer(frozen, np.float32)[0] == 0.0


def _run_example(client, name, *args):
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([TAPEGRAD_PATH, os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / name),
            "--address",
            client.scheduler.address,
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_example_training_loop_runs_small(client):
    out = _run_example(
        client, "dask_train.py", "--rows", "20000", "--steps", "8", "--chunk-rows", "5000"
    )
    losses = [float(line.split()[3]) for line in out.splitlines() if line.startswith("step")]
    assert len(losses) == 8 and losses[-1] < losses[0] < 0.7
    assert "corr(w, true w)" in out


def test_example_lbfgs_runs_small(client):
    out = _run_example(
        client, "dask_lbfgs.py", "--rows", "20000", "--chunk-rows", "5000", "--maxiter", "20"
    )
    corr = float(out.split("corr(w, true w) = ")[1].split(";")[0])
    assert corr > 0.95, out


def test_example_scaling_runs_small():
    # The measuring script at toy sizes (it starts its own 1- and 2-worker clusters): it prints
    # the average overhead at both sizes and the marginal one, and a call over persisted chunks
    # on a single-threaded worker is one request to it whatever the number of chunks.
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([TAPEGRAD_PATH, os.environ.get("PYTHONPATH", "")])
    )
    args = ["--rows", "20000", "--chunk-rows", "10000", "--overhead-chunks", "2"]
    args += ["--overhead-chunks-2", "5", "--overhead-rows", "500", "--repeats", "1"]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "dask_scaling.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(ROOT / "examples"),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "2 chunks, direct, 1 request(s) per call" in out, out
    assert "5 chunks, direct, 1 request(s) per call" in out, out
    assert "| marginal (2 -> 5) |" in out, out
    target = [line for line in out.splitlines() if line.startswith("TARGET overhead")]
    assert len(target) == 1 and "at 2 chunks" in target[0] and "marginal" in target[0], out


# ---- threaded and synchronous schedulers, and argument checks (no cluster needed) ----------------------


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_local_schedulers(scheduler):
    x, y = _data(rows=300)
    w, b = _params()
    want_v, want_g = tg.value_and_grad(_logistic_mean, grad_position=(0, 1))(w, b, x, y)
    with dask.config.set(scheduler=scheduler):
        v, g = tgd.value_and_grad(
            _logistic_mean,
            (w, b),
            da.from_array(x, chunks=70),
            da.from_array(y, chunks=70),
            reduce="mean",
        )
        jac = tgd.map_vmap(tg.grad(lambda r: (r * r).sum()), da.from_array(x, chunks=70)).compute()
    _close(v, want_v)
    _close(g[0], want_g[0])
    _close(jac, 2 * x)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_jitted_loss_on_a_local_scheduler_keeps_its_recordings(scheduler):
    x, y = _data(rows=300)
    w, b = _params()
    loss = tg.jit(_logistic_mean)
    want_v, want_g = tg.value_and_grad(_logistic_mean, grad_position=(0, 1))(w, b, x, y)
    dx, dy = da.from_array(x, chunks=70), da.from_array(y, chunks=70)  # 4 x 70 rows and 20
    with dask.config.set(scheduler=scheduler):
        for _ in range(3):
            v, g = tgd.value_and_grad(loss, (w, b), dx, dy, reduce="mean")
            _close(v, want_v)
            _close(g[0], want_g[0])
            _close(g[1], want_g[1])
    (chunk_fn,) = tgd._LOCAL_JIT_CHUNK_FNS[loss].values()
    info = chunk_fn.cache_info()
    assert info["records"] <= 2 * 2 and info["replays"] >= 15 - info["records"], info


def test_empty_chunks_and_no_rows():
    x, y = _data(rows=50)
    w, b = _params()
    dx = da.from_array(x, chunks=((0, 20, 0, 30), (5,)))
    dy = da.from_array(y, chunks=((0, 20, 0, 30),))
    assert 0 in dx.chunks[0]
    want_v, want_g = tg.value_and_grad(_logistic_mean, grad_position=(0, 1))(w, b, x, y)
    with dask.config.set(scheduler="sync"):
        v, g = tgd.value_and_grad(_logistic_mean, (w, b), dx, dy, reduce="mean")
        _close(v, want_v)
        _close(g[0], want_g[0])
        v, g = tgd.value_and_grad(_logistic_sum, (w, b), dx[:0], dy[:0])
        assert float(v) == 0.0 and g[0].tolist() == [0.0] * 5
        with pytest.raises(ValueError, match="no rows"):
            tgd.value_and_grad(_logistic_mean, (w, b), dx[:0], dy[:0], reduce="mean")
        assert tgd.map_vmap(lambda r: r * 2, dx).compute().shape == (50, 5)


def test_argument_errors():
    x = da.ones((10, 2), chunks=5)
    w = tg.zeros(2)
    loss = lambda w, x: (x @ w).sum()
    vg = tgd.value_and_grad
    with pytest.raises(TypeError, match="loss must be callable"):
        vg(3, w, x)
    with pytest.raises(ValueError, match="reduce must be 'sum' or 'mean'"):
        vg(loss, w, x, reduce="max")
    with pytest.raises(TypeError, match="at least one dask array"):
        vg(loss, w)
    with pytest.raises(TypeError, match=r"argument 0 must be a dask.array.Array.*from_array"):
        vg(loss, w, np.ones((10, 2)))
    with pytest.raises(ValueError, match="same number of rows"):
        vg(lambda w, x, y: x.sum(), w, x, da.ones(9, chunks=5))
    with pytest.raises(ValueError, match="0-d"):
        vg(loss, w, da.ones((), chunks=()))
    with pytest.raises(ValueError, match="params is empty"):
        vg(loss, (), x)
    with pytest.raises(TypeError, match="Dask collection"):
        vg(loss, da.ones(2, chunks=1), x)
    with pytest.raises(TypeError, match="params\\[0\\] must be"):
        vg(loss, "w", x)
    with pytest.raises(ValueError, match="split_every"):
        vg(loss, w, x, split_every=1)
    unknown = da.ones((10, 2), chunks=5)[da.ones(10, chunks=5) > 0]
    with pytest.raises(ValueError, match="unknown row chunk sizes"):
        vg(loss, w, unknown)
    with dask.config.set(scheduler="sync"), pytest.raises(ValueError, match="must return a scalar"):
        vg(lambda w, x: x @ w, w, x)
    with pytest.raises(TypeError, match="fn must be callable"):
        tgd.map_vmap(None, x)
    with pytest.raises(TypeError, match="one Tensor per row"):
        tgd.map_vmap(lambda r: (r, r), x)
    with pytest.raises(ValueError, match="negative"):
        tgd.map_vmap(lambda r: r, x, out_shape=(-2,), dtype="float32")
    with pytest.raises(TypeError, match="not a tapegrad dtype"):
        tgd.map_vmap(lambda r: r, x, out_shape=(2,), dtype="complex256")
    with dask.config.set(scheduler="sync"), pytest.raises(ValueError, match="expected"):
        tgd.map_vmap(lambda r: r, x, out_shape=(3,), dtype="float32").compute()


def test_functions_sent_to_workers_are_loaded_once_per_content():
    f = tgd._Fn(tg.jit(lambda x: x + 1))
    a = pickle.loads(cloudpickle.dumps(f))
    b = pickle.loads(cloudpickle.dumps(f))
    assert a is b  # same bytes: the same loaded function (a jit keeps its recordings)
    assert a._fn is None  # loaded where it is first called, not where it is unpickled
    assert a.fn(tg.zeros(1)).item() == 1.0 and a.fn is b.fn
    assert f.__reduce__()[1][1] is f.__reduce__()[1][1]  # pickled once, however often sent
    k = tg.ones(1)
    g = lambda x: x + k
    first = pickle.loads(cloudpickle.dumps(tgd._Fn(g)))
    k[0] = 5.0  # the closed-over tensor changed: a different function on the worker
    second = pickle.loads(cloudpickle.dumps(tgd._Fn(g)))
    assert first is not second and second.fn(tg.zeros(1)).item() == 5.0


def test_every_public_name_has_an_example():
    import doctest

    for name in tgd.__all__:
        doc = getattr(tgd, name).__doc__ or ""
        assert doctest.DocTestParser().get_examples(doc), f"tapegrad.dask.{name} has no >>> example"


def test_importing_tapegrad_does_not_import_dask():
    code = "import sys, tapegrad, pickle; pickle.dumps(tapegrad.ones(2), 5); print('dask' in sys.modules, 'distributed' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=TAPEGRAD_PATH)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.stdout.split() == ["False", "False"], out.stderr
