"""Data-parallel gradients and per-row transforms on Dask (needs ``pip install 'tapegrad[dask]'``).

`value_and_grad` takes a loss written for one chunk of rows and gives its value and gradient over
all the rows of Dask arrays: each chunk's loss and gradient are computed by tapegrad on the worker
that holds the chunk, and the partial results are summed by a tree reduction. `map_vmap` applies a
per-row function (``tg.jacrev(f)``, ``tg.grad(f)``, ``tg.hessian(f)``) chunk by chunk through
``tg.vmap`` and gives a Dask array. Both run on whatever Dask scheduler is active: a
``distributed.Client`` (a laptop's LocalCluster, or a cluster: docs/scale-out.md), else Dask's
threaded (or synchronous) scheduler in this process.

Importing this module registers Tensors with ``dask.sizeof`` (their bytes, for the workers'
memory accounting). Tensors sent between client and workers travel as pickle protocol 5 with their
values in one out-of-band frame (Tensor.__reduce_ex__); `register_serialization` registers them
with Dask's own serialisation family too, on the client and every worker at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import threading
import time
import uuid
import weakref
from collections import OrderedDict

import numpy as np

try:
    import cloudpickle
    import dask
    import dask.array as da
    import dask.sizeof
except ImportError as e:  # pragma: no cover - exercised only where dask is missing
    raise ImportError(
        f"tapegrad.dask needs Dask ({e}): pip install 'tapegrad[dask]' (installs dask[array,distributed])"
    ) from e

import tapegrad as tg

from . import _pickle
from ._core import Tensor
from ._jit import JitFunction
from ._parameter import Parameter
from ._pickle import array_from_parts, contiguous_data

try:
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPluginBase
except ImportError:  # dask without distributed: only the local schedulers
    _WorkerPluginBase = object

__all__ = ["map_vmap", "register_serialization", "value_and_grad"]

_REDUCTIONS = ("sum", "mean")


# ---- functions sent to workers -----------------------------------------------------------------------
# A loss or per-row function goes to the workers pickled by cloudpickle (closures by value, as Dask
# sends functions), once per call: the `_Fn` holding it keeps its bytes, so the copies of a task
# that the scheduler sends on are not pickled again. Whatever unpickles an `_Fn` (the scheduler, a
# worker) gets a holder of those bytes, kept by their digest (the last few): the function is loaded
# only where it is first called, so the scheduler never runs the user's code, and a function sent
# again unchanged (every step of a training loop) is the same object on the worker, with its
# per-chunk gradient function (a `tg.jit` loss keeps its recordings across chunks and calls); a
# function whose pickled state changed (a closed-over tensor with new values) is loaded afresh.

_FN_CACHE: OrderedDict = OrderedDict()
_FN_CACHE_SIZE = 16
_FN_LOCK = threading.Lock()
_LOCAL_JIT_CHUNK_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Fn:
    """Holds a user function; pickles as (digest, cloudpickle bytes), loaded once per worker."""

    __slots__ = ("_blob", "_chunk_fns", "_digest", "_fn", "_local")

    def __init__(self, fn=None, digest=None, blob=None):
        self._fn, self._digest, self._blob = fn, digest, blob
        self._local = fn is not None  # made by the caller here, not unpickled
        self._chunk_fns = {}

    def __reduce__(self):
        if self._blob is None:
            blob = cloudpickle.dumps(self._fn, protocol=5)
            self._digest, self._blob = hashlib.sha256(blob).hexdigest(), blob
        return (_load_fn, (self._digest, self._blob))

    @property
    def fn(self):
        if self._fn is None:
            with _FN_LOCK:
                if self._fn is None:
                    self._fn = cloudpickle.loads(self._blob)
        return self._fn

    def chunk_value_and_grad(self, n_params):
        """``tg.value_and_grad`` of the function over its first `n_params` arguments, made once
        per function and worker. For a `tg.jit` loss it is ``tg.jit(value_and_grad(loss))``: the
        forward and backward passes are recorded once per chunk shape and replayed in C++ (about
        half the time of the loss's own replay differentiated op by op, for examples/dask_train.py's
        loss at 10^5 rows)."""
        fn = self.fn
        # A holder unpickled on a worker lives as long as its function is sent; in this process
        # (a local scheduler) a new _Fn wraps the caller's function in every call, so the
        # recordings are kept with the caller's jit function instead.
        cache = self._chunk_fns
        if self._local and isinstance(fn, JitFunction):
            with _FN_LOCK:
                cache = _LOCAL_JIT_CHUNK_FNS.setdefault(fn, {})
        f = cache.get(n_params)
        if f is None:
            positions = tuple(range(n_params))
            if isinstance(fn, JitFunction):
                f = tg.jit(tg.value_and_grad(fn._fn, grad_position=positions), fuse=fn._fuse)
            else:
                f = tg.value_and_grad(fn, grad_position=positions)
            f = cache.setdefault(n_params, f)
        return f


def _load_fn(digest, blob):
    """An `_Fn` unpickled: the one already held for these bytes, else a new holder (not loaded)."""
    with _FN_LOCK:
        hit = _FN_CACHE.get(digest)
        if hit is None:
            hit = _FN_CACHE[digest] = _Fn(None, digest, blob)
            while len(_FN_CACHE) > _FN_CACHE_SIZE:
                _FN_CACHE.popitem(last=False)
        else:
            _FN_CACHE.move_to_end(digest)
        return hit


_THREADS_LOCK = threading.Lock()
_THREADS_SET = []


def _worker_threads():
    """On a Dask worker, the first tapegrad.dask task sets tapegrad's kernel threads to
    OMP_NUM_THREADS, which Dask's nanny sets (to 1 by default) for every numeric library in a
    worker: its task threads are the parallelism, and a kernel pool on top of them oversubscribes
    the cores (on a busy machine that made a chunk's gradient 20x slower). OpenBLAS follows
    tapegrad's pool."""
    if _THREADS_SET:
        return
    with _THREADS_LOCK:
        if _THREADS_SET:
            return
        try:
            from distributed import get_worker

            get_worker()
        except (ImportError, ValueError):
            pass  # not on a distributed worker: leave the caller's setting
        else:
            n = os.environ.get("OMP_NUM_THREADS", "")
            if n.isdigit() and int(n) >= 1:
                tg.set_num_threads(min(int(n), max(1, os.cpu_count() or 1)))
        _THREADS_SET.append(True)


def _as_tensor(block):
    return block if isinstance(block, Tensor) else tg.tensor(np.asarray(block))


def _group_value_and_grad(payload, n_arrays, *blocks):
    """The summed partial result of one or more chunks (`n_arrays` blocks each, in order), in one
    task: (loss value, gradients as float64 arrays, rows, value dtype), each chunk's value and
    gradients multiplied by its rows for reduce="mean" (so that the sums weigh chunks by rows).
    Persisted chunks held by one worker go all to one task per thread of that worker: every task
    costs a round of Dask's machinery (scheduler transitions, messages, the worker's hand-over
    between its event loop and its task thread: about 4 ms between consecutive tasks on one
    worker), and a chunk of 10^5 x 32 rows computes in about 3 ms."""
    _worker_threads()
    fn, params, mean = payload
    value_and_grad_fn = fn.chunk_value_and_grad(len(params))
    ps = None
    value, grads, rows, vdtype = 0.0, None, 0, None
    for i in range(0, len(blocks), n_arrays):
        chunk = blocks[i : i + n_arrays]
        n = int(chunk[0].shape[0])
        if n == 0:  # an empty chunk adds nothing (and a mean over no rows would be nan)
            continue
        if ps is None:
            ps = [Tensor(p) for p in params]
        v, gs = value_and_grad_fn(*ps, *map(_as_tensor, chunk))
        if not isinstance(v, Tensor) or v.size != 1:
            shape = tuple(v.shape) if isinstance(v, Tensor) else type(v).__name__
            raise ValueError(
                f"tapegrad.dask.value_and_grad: the loss must return a scalar Tensor, got {shape}"
            )
        w = n if mean else 1
        value += float(v) * w
        rows += n
        vdtype = vdtype or str(v.dtype.name)
        if grads is None:  # float64 arrays (np.array: a 0-d one too, which += then updates)
            grads = [np.array(g, dtype=np.float64) for g in gs]
            for acc in grads:
                acc *= w
        else:
            for acc, g in zip(grads, gs):
                acc += np.asarray(g, dtype=np.float64) * w
    return (value, grads, rows, vdtype)


def _combine(*parts):
    """Sum of partial results (one node of the tree reduction)."""
    value, grads, rows, vdtype = 0.0, None, 0, None
    for v, g, n, d in parts:
        value += v
        rows += n
        vdtype = vdtype or d
        if g is not None:
            grads = [a.copy() for a in g] if grads is None else [a + b for a, b in zip(grads, g)]
    return (value, grads, rows, vdtype)


def _chunk_vmap(fn, out_tail, out_dtype, *blocks):
    _worker_threads()
    rows = int(blocks[0].shape[0])
    if rows == 0:
        return np.empty((0, *out_tail), dtype=out_dtype)
    out = tg.vmap(fn.fn)(*map(_as_tensor, blocks))
    if not isinstance(out, Tensor):
        raise TypeError(
            f"tapegrad.dask.map_vmap: fn must return one Tensor per row, got {type(out).__name__}"
        )
    want = (rows, *out_tail)
    if tuple(out.shape) != want or str(out.dtype.name) != np.dtype(out_dtype).name:
        raise ValueError(
            f"tapegrad.dask.map_vmap: fn gave {tuple(out.shape)} {out.dtype.name} for a chunk of {rows} rows, "
            f"expected {want} {np.dtype(out_dtype).name} (out_shape/dtype, or what one example row gave)"
        )
    return out.asnumpy()


# ---- argument checks ---------------------------------------------------------------------------------


def _align_rows(arrays, op):
    """The arrays with one chunk across every axis but the first, and the first array's row chunks
    (rechunked where they differ)."""
    if not arrays:
        raise TypeError(f"{op}: give at least one dask array of rows")
    for k, a in enumerate(arrays):
        if not isinstance(a, da.Array):
            raise TypeError(
                f"{op}: argument {k} must be a dask.array.Array (rows along axis 0), got {type(a).__name__}; "
                "wrap in-memory data with dask.array.from_array(x, chunks=...)"
            )
        if a.ndim == 0:
            raise ValueError(f"{op}: argument {k} is 0-d; every array needs rows along axis 0")
        if any(math.isnan(c) for c in a.chunks[0]):
            raise ValueError(
                f"{op}: argument {k} has unknown row chunk sizes; call .compute_chunk_sizes() first"
            )
    rows = arrays[0].shape[0]
    if any(a.shape[0] != rows for a in arrays):
        raise ValueError(
            f"{op}: the arrays must have the same number of rows, got shapes {[tuple(a.shape) for a in arrays]}"
        )
    ref = arrays[0].chunks[0]
    out = []
    for a in arrays:
        spec = {d: -1 for d in range(1, a.ndim) if a.numblocks[d] > 1}
        if a.chunks[0] != ref:
            spec[0] = ref
        out.append(a.rechunk(spec) if spec else a)
    return out


def _params_to_arrays(params, op):
    """(single?, [contiguous numpy arrays], [tapegrad dtype names]) of the parameters."""
    single = not isinstance(params, (tuple, list))
    items = [params] if single else list(params)
    if not items:
        raise ValueError(
            f"{op}: params is empty; give a Tensor or a tuple of Tensors to differentiate"
        )
    arrays, dtypes = [], []
    for k, p in enumerate(items):
        if isinstance(p, da.Array) or hasattr(p, "__dask_graph__"):
            raise TypeError(
                f"{op}: params[{k}] is a Dask collection; parameters must be in memory (a Tensor or numpy array)"
            )
        if isinstance(p, (str, bytes, dict)) or p is None:
            raise TypeError(
                f"{op}: params[{k}] must be a Tensor, numpy array or number, got {type(p).__name__}"
            )
        t = p if isinstance(p, Tensor) else tg.tensor(p)
        arrays.append(contiguous_data(t))
        dtypes.append(str(t.dtype.name))
    return single, arrays, dtypes


def _flat_keys(keys):
    return [k for sub in keys for k in _flat_keys(sub)] if isinstance(keys, list) else [keys]


def _persisted_blocks(client, arrays):
    """For arrays whose every chunk is a computed (persisted) Future of `client`: per array, the
    chunk Futures in row order. None when any chunk is still a lazy task."""
    from distributed import futures_of, wait

    held = []
    for a in arrays:
        futures = {f.key: f for f in futures_of(a) if f.client is client}
        keys = _flat_keys(a.__dask_keys__())
        if not all(k in futures for k in keys):
            return None
        held.append([futures[k] for k in keys])
    if any(f.status != "finished" for fs in held for f in fs):
        # (the status is the client's own record: no round trip to the scheduler when all are in)
        wait([f for fs in held for f in fs])
        if any(f.status != "finished" for fs in held for f in fs):
            return None  # an error or a lost chunk: the per-chunk path recomputes or reports it
    return held


# Where persisted chunks are, by their keys, for a few seconds: a training loop's calls over the
# same arrays then skip the round trip to the scheduler that asks. A stale answer (a worker lost
# and its chunks recomputed elsewhere) costs a transfer of the chunks, not a wrong result.
_WHO_HAS: OrderedDict = OrderedDict()
_WHO_HAS_SIZE = 8
_WHO_HAS_TTL_S = 2.0


def _group_by_worker(client, held):
    """(worker, list of chunk indices), one per task: the chunks of the first array held by one
    worker, split evenly into one group per thread of that worker (consecutive chunks together).
    More tasks would only add Dask's cost per task: a worker runs as many at once as it has
    threads, and the call waits for all of them. The worker is None in a group with a chunk whose
    blocks (one per array) are not all on that worker: such a call takes the graph path, which
    moves the blocks."""
    keys = tuple(f.key for f in held[0])
    cache_key = (client.id, tuple(f.key for fs in held for f in fs))
    now = time.monotonic()
    hit = _WHO_HAS.get(cache_key)
    if hit is not None and now - hit[0] < _WHO_HAS_TTL_S:
        return hit[1]
    who = client.who_has([f for fs in held for f in fs])  # (one round trip for all the arrays)
    threads = client.nthreads()  # (asked in the same refresh: a worker's threads do not change)
    by_worker, apart = {}, set()
    for i, k in enumerate(keys):
        # A chunk held by several workers (a copy made for a task elsewhere) goes to the one with
        # the fewest chunks so far: the call waits for the busiest worker. Holders of every
        # array's block first.
        holders = tuple(who.get(k) or (None,))
        together = [h for h in holders if all(h in (who.get(fs[i].key) or ()) for fs in held[1:])]
        w = min(together or holders, key=lambda h: len(by_worker.get(h, ())))
        if not together or w is None:
            apart.add(i)
        by_worker.setdefault(w, []).append(i)
    groups = []
    for w, idx in by_worker.items():
        n = max(1, min(len(idx), int(threads.get(w) or 1)))
        for k in range(n):
            g = idx[len(idx) * k // n : len(idx) * (k + 1) // n]
            groups.append((None if apart.intersection(g) else w, g))
    with _FN_LOCK:
        _WHO_HAS[cache_key] = (now, groups)
        _WHO_HAS.move_to_end(cache_key)
        while len(_WHO_HAS) > _WHO_HAS_SIZE:
            _WHO_HAS.popitem(last=False)
    return groups


# A payload (the pickled loss and parameters) up to this size goes inside each task's arguments:
# no task of its own and no transfer between workers before the chunks can start. A larger one
# is one task of the call's graph whose result the workers fetch (once each).
_INLINE_PAYLOAD_BYTES = 1 << 16


def _grouped_graph(payload, held, groups, split_every):
    """The whole call as one graph (sent to the scheduler in one message): one task per group of
    chunks and a tree of `_combine` tasks with `split_every` inputs each, down to at most
    `split_every` partial results, which the caller gathers and adds (the last node of the tree
    on the client: no task and no transfer between workers on the way to the result); (graph,
    keys of the last partial results)."""
    # Dask's task specification (dask >= 2024.12; Futures are TaskRefs), the form its own
    # collections build graphs in.
    from dask._task_spec import DataNode, Task, TaskRef

    token = uuid.uuid4().hex
    graph = {}
    params_bytes = sum(a.nbytes for a in payload[1])
    if params_bytes <= _INLINE_PAYLOAD_BYTES:
        payload_arg = DataNode(None, payload)
    else:
        key = f"tapegrad-params-{token}"
        graph[key] = DataNode(key, payload)
        payload_arg = TaskRef(key)
    level = []
    for g, (_, idx) in enumerate(groups):
        key = f"tapegrad-grad-{token}-{g}"
        blocks = [b[j] for j in idx for b in held]
        graph[key] = Task(key, _group_value_and_grad, payload_arg, len(held), *blocks)
        level.append(key)
    depth = 0
    while len(level) > split_every:
        depth += 1
        nxt = []
        for i in range(0, len(level), split_every):
            key = f"tapegrad-combine-{token}-{depth}-{len(nxt)}"
            graph[key] = Task(key, _combine, *(TaskRef(k) for k in level[i : i + split_every]))
            nxt.append(key)
        level = nxt
    return graph, level


# ---- the direct path: one call per worker, straight to the worker ----------------------------------
# A graph costs a chain of about 8 messages and hand-overs per call whatever its size (client ->
# scheduler, the scheduler's offload thread twice, scheduler -> worker, the worker's task thread,
# worker -> scheduler -> client, the gather): about 8 ms of fixed cost per call on a quiet machine,
# more than the marginal cost of 100 chunks of 10^5 rows. When every persisted chunk is where the
# client's (cached) `who_has` says, the call instead goes from the client to each worker holding
# chunks, in parallel, as one request each to a `_ChunkActor` (a Dask Actor created once per worker
# and client, holding nothing): it takes that worker's chunks from its memory, computes one group
# per thread of the worker on the worker's task threads, and answers with the sum of their partial
# results. Anything off -- a chunk not on that worker (moved, lost, recomputed elsewhere), a worker
# gone, an actor missing or failing, an error in the loss -- and the call is redone as a graph, as
# before, which recomputes lost chunks, retries tasks of a lost worker and raises the loss's own
# errors. So the direct path never gives an answer the graph path would not.

_DIRECT = True  # (tests turn it off to exercise the graph path with persisted chunks)
_ACTOR_START_TIMEOUT_S = 10.0
_ACTORS_LOCK = threading.Lock()


def _timed_group(payload, n_arrays, blocks):
    t0 = time.perf_counter()
    part = _group_value_and_grad(payload, n_arrays, *blocks)
    return part, time.perf_counter() - t0


class _ChunkActor:
    """Lives on one worker; computes the partial result of chunks that worker holds."""

    async def value_and_grad(self, payload, n_arrays, groups):
        """`groups`: per group, the keys of its chunks' blocks (`n_arrays` per chunk, in order).
        None when a key is not in this worker's memory (the caller then takes the graph path);
        else (summed partial result, seconds of compute per group)."""
        import asyncio
        import contextvars

        from distributed import get_worker

        worker = get_worker()
        data = worker.data
        try:
            blocks = [[data[k] for k in keys] for keys in groups]
        except KeyError:
            return None
        loop = asyncio.get_running_loop()
        executor = worker.executors["default"]  # the worker's task threads, one group each
        parts = await asyncio.gather(
            *(
                # (the context carries the worker: get_worker() in the thread, for _worker_threads)
                loop.run_in_executor(
                    executor, contextvars.copy_context().run, _timed_group, payload, n_arrays, b
                )
                for b in blocks
            )
        )
        return _combine(*(p for p, _ in parts)), [t for _, t in parts]


# What the last call over persisted chunks in this process did, for examples/dask_scaling.py:
# "direct" (and the seconds of compute of its groups by worker, measured there) or "graph".
_LAST_CALL: dict = {}


def _actors_for(client, workers):
    """{worker address: actor key} for `workers`, making the missing ones (once per client)."""
    with _ACTORS_LOCK:
        actors = client.__dict__.setdefault("_tapegrad_dask_actors", {})
        for w in [w for w, f in actors.items() if f.status != "finished"]:
            # (its worker lost: the scheduler told the client so, no round trip here)
            actors.pop(w).release()
        missing = [w for w in workers if w not in actors]
    if missing:
        futures = {
            w: client.submit(
                _ChunkActor,
                actor=True,
                workers=[w],
                allow_other_workers=False,
                pure=False,
                key=f"tapegrad-actor-{uuid.uuid4().hex}",
            )
            for w in missing
        }
        try:
            from distributed import wait

            done = wait(list(futures.values()), timeout=_ACTOR_START_TIMEOUT_S)
            ok = all(f.status == "finished" for f in done.done) and not done.not_done
        except Exception:
            ok = False
        if not ok:
            for f in futures.values():
                f.release()
            return None
        with _ACTORS_LOCK:
            for w, f in futures.items():
                actors.setdefault(w, f)
    return {w: actors[w].key for w in workers}


def _drop_actors(client):
    with _ACTORS_LOCK:
        actors = client.__dict__.pop("_tapegrad_dask_actors", {})
    for f in actors.values():
        f.release()


class _WorkerLost(Exception):
    """A worker of a direct call left the cluster while the call waited for it."""


_DIRECT_WATCH_S = 1.0  # how often a direct call still waiting checks that its workers are alive


async def _call_actors(client, calls):
    """The actors' answers, in the order of `calls`. The first failure ends the call: the other
    requests are dropped (cancelled here; a worker still computing finishes its groups and its
    answer is thrown away). A worker whose process dies closes its connection, which fails its
    request at once; one that vanishes without closing it (a host lost, a network cut) would keep
    its request waiting as long as TCP does, so a call still waiting after `_DIRECT_WATCH_S` asks
    the scheduler which workers it has, and gives up when one of its workers is gone (the graph
    path then waits for the scheduler's own recovery, as every Dask computation does)."""
    from distributed.protocol import to_serialize

    async def one(address, key, args):
        r = await client.rpc(address).actor_execute(
            actor=key, function="value_and_grad", args=[to_serialize(a) for a in args], kwargs={}
        )
        if r.get("status") != "OK":
            raise r.get("exception") or RuntimeError(f"tapegrad.dask: actor call failed: {r}")
        return r["result"]

    tasks = [asyncio.ensure_future(one(*c)) for c in calls]
    try:
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(
                pending, timeout=_DIRECT_WATCH_S, return_when=asyncio.FIRST_EXCEPTION
            )
            for t in done:
                if t.exception() is not None:
                    raise t.exception()
            if pending:
                alive = await client.scheduler.ncores()
                if any(address not in alive for address, _, _ in calls):
                    raise _WorkerLost()
        return [t.result() for t in tasks]
    finally:
        for t in tasks:
            t.cancel()


def _direct_call(client, payload, held, groups):
    """The partial results of the call through the workers' actors, or why not (a string: take
    the graph path)."""
    by_worker = {}
    for w, idx in groups:
        if w is None:
            return "blocks apart"
        keys = [b[j].key for j in idx for b in held]
        by_worker.setdefault(w, []).append(keys)
    actors = _actors_for(client, list(by_worker))
    if actors is None:
        return "no actors"
    calls = [(w, actors[w], (payload, len(held), gs)) for w, gs in by_worker.items()]
    try:
        results = client.sync(_call_actors, client, calls)
    except Exception as e:
        # A worker gone, an actor missing or failing, or an error in the loss: the graph path
        # redoes the call (and raises the loss's error itself); the actors are made afresh.
        _drop_actors(client)
        _WHO_HAS.clear()
        return f"{type(e).__name__}: {e}"
    if any(r is None for r in results):  # a chunk not where who_has said: ask again next time
        _WHO_HAS.clear()
        return "chunks moved"
    _LAST_CALL.clear()
    compute = {}
    for (w, _, _), (_, ts) in zip(calls, results):
        compute[w] = compute.get(w, 0.0) + sum(ts)
    _LAST_CALL.update(path="direct", compute_s=compute)
    return [part for part, _ in results]


def _graph_call(client, payload, held, groups, split_every):
    """The call over persisted chunks as one graph (one task per group and the combine tree):
    the path when the direct one is off or fails. (Not client.scatter for the payload: scattered
    data has no task to recompute it from.)"""
    _LAST_CALL.clear()
    _LAST_CALL.update(path="graph")
    graph, last = _grouped_graph(payload, held, groups, split_every)
    futures = client.get(graph, last, sync=False)
    # The previous call's futures are released now, after this call's graph has gone, not
    # when that call returned: a release is a message on the client's batched stream to the
    # scheduler, which holds back whatever follows it within 10 ms, so in a training loop the
    # next call's graph would wait up to 10 ms for it. (Until then the workers keep a few
    # partial results of a few hundred bytes; a worker lost in between makes the scheduler
    # recompute its share of them, once.)
    previous = getattr(client, "_tapegrad_dask_last", None)
    client._tapegrad_dask_last = futures
    del previous
    return _combine(*client.gather(futures))


def _active_client():
    """The distributed Client that dask.compute would use now, or None."""
    try:
        sched = dask.base.get_scheduler()
    except Exception:
        return None
    try:
        from distributed import Client
    except ImportError:
        return None
    client = getattr(sched, "__self__", None)
    return client if isinstance(client, Client) else None


# ---- public functions --------------------------------------------------------------------------------


def value_and_grad(loss, params, *arrays, reduce="sum", split_every=8):
    """The value and gradient of a loss over all rows of Dask arrays, computed chunk by chunk.

    ``loss(*params, *chunks)`` is written with tapegrad ops for one chunk: ``chunks`` are Tensors
    holding the same rows of each array (axis 0), and it returns a scalar. With ``reduce="sum"`` it
    returns the sum over the chunk's rows and the total is the sum over chunks; with
    ``reduce="mean"`` it returns the mean over the chunk's rows and the total is the mean over all
    rows (chunks weighted by their row counts). ``params`` is one Tensor, Parameter, numpy array or
    number, or a tuple/list of them; ``grads`` has the same structure (Tensors of the params'
    dtypes and shapes), ``value`` is a 0-d Tensor. The result equals the single-process
    ``tg.value_and_grad`` over the whole arrays up to float rounding (partial sums are float64).

    Each chunk's loss and gradient run on the worker that holds the chunk; the params and the
    loss (pickled once per call by cloudpickle) go with the tasks to the workers, and the partial
    results are combined by a tree reduction with ``split_every`` inputs per node, the last node
    on the client. A worker lost during the call costs a retry of its tasks, not the answer.
    Chunks already in the workers' memory (``client.persist``) are taken a group per thread of
    the worker holding them: when chunk i of every array is on one worker, the client sends one
    request straight to each such worker (to a Dask Actor made once per worker and client), with
    no graph and no scheduler on the way; otherwise, or when anything is off on that path (a chunk
    moved, a worker lost, an error), the call is one graph sent in one message, one task per
    group, which keeps Dask's cost per chunk small. Lazy chunks get one task each, run where the
    chunk is made. A ``tg.jit`` loss is differentiated as ``tg.jit(tg.value_and_grad(loss))``, recorded
    once per chunk shape on each worker. Arrays are rechunked to one chunk across their other
    axes, and to the first array's row chunks. Without a ``distributed.Client`` it runs on Dask's
    local scheduler (threads, or ``sync``).

    >>> import dask, dask.array as da
    >>> import tapegrad.dask as tgd
    >>> x = da.from_array(np.arange(8.0).reshape(4, 2), chunks=(3, 2))
    >>> y = da.from_array(np.array([1.0, 0.0, 1.0, 2.0]), chunks=3)
    >>> sq = lambda w, x, y: ((x @ w - y) ** 2).mean()
    >>> with dask.config.set(scheduler="sync"):
    ...     value, grad = tgd.value_and_grad(sq, np.zeros(2), x, y, reduce="mean")
    >>> value, grad
    (Tensor(shape=[], dtype=Float64, value= 1.5), Tensor(shape=[2], dtype=Float64, value= [-8.00000000e+00, -1.00000000e+01]))
    >>> print(tg.value_and_grad(sq)(tg.zeros(2, dtype=tg.float64), x.compute(), y.compute())[1])
    [ -8. -10.]
    """
    op = "tapegrad.dask.value_and_grad"
    if not callable(loss):
        raise TypeError(f"{op}: loss must be callable, got {type(loss).__name__}")
    if reduce not in _REDUCTIONS:
        raise ValueError(f"{op}: reduce must be 'sum' or 'mean', got {reduce!r}")
    if (
        isinstance(split_every, (bool, np.bool_))
        or not isinstance(split_every, (int, np.integer))
        or split_every < 2
    ):
        raise ValueError(f"{op}: split_every must be an int >= 2, got {split_every!r}")
    split_every = int(split_every)  # numpy ints too
    single, param_arrays, dtypes = _params_to_arrays(params, op)
    arrays = _align_rows(arrays, op)

    payload = (_Fn(loss), param_arrays, reduce == "mean")
    client = _active_client()
    held = _persisted_blocks(client, arrays) if client is not None else None
    if held is not None:
        # Chunks already in workers' memory (persisted): one group per worker thread, over that
        # worker's chunks, straight to the workers (_direct_call) or else as one graph
        # (_graph_call): one task per group, which the scheduler runs where its chunks are
        # (elsewhere only if that worker is lost), and the combine tree, all sent in one message.
        # The scheduler holds the whole graph until the result is in, so a partial result (or the
        # payload) lost with a worker is recomputed.
        groups = _group_by_worker(client, held)
        parts = _direct_call(client, payload, held, groups) if _DIRECT else "direct path off"
        if not isinstance(parts, str):
            value, grads, rows, vdtype = _combine(*parts)
        else:
            value, grads, rows, vdtype = _graph_call(client, payload, held, groups, split_every)
            _LAST_CALL["why"] = parts
    else:
        # Lazy chunks (made where they are first needed) or a local scheduler: one task per chunk.
        payload_arg = dask.delayed(
            payload, name=f"tapegrad-params-{uuid.uuid4().hex}", traverse=False
        )
        blocks = [a.to_delayed().reshape(-1) for a in arrays]
        chunk_fn = dask.delayed(_group_value_and_grad, pure=False)
        level = [
            chunk_fn(payload_arg, len(blocks), *(b[i] for b in blocks))
            for i in range(len(blocks[0]))
        ]
        combine = dask.delayed(_combine, pure=False)
        while len(level) > 1:
            level = [
                combine(*level[i : i + split_every]) for i in range(0, len(level), split_every)
            ]
        value, grads, rows, vdtype = dask.compute(level[0])[0]

    if reduce == "mean":
        if rows == 0:
            raise ValueError(f"{op}: reduce='mean' over arrays with no rows")
        value = value / rows
        if grads is not None:
            grads = [g / rows for g in grads]
    if grads is None:  # no rows at all: the sum is 0 and so is its gradient
        grads = [np.zeros(a.shape) for a in param_arrays]
    out = tuple(
        tg.tensor(np.asarray(g).astype(dt, copy=False).reshape(a.shape))
        for g, a, dt in zip(grads, param_arrays, dtypes)
    )
    value = tg.tensor(np.asarray(value, dtype=vdtype or "float32"))
    return value, (out[0] if single else out)


def map_vmap(fn, *arrays, out_shape=None, dtype=None):
    """``tg.vmap(fn)`` applied to the rows of Dask arrays chunk by chunk: a Dask array of
    ``fn``'s per-row results stacked along axis 0, chunked along rows as the first array.

    ``fn(*rows)`` takes one row of each array (axis 0 removed) and returns one Tensor, e.g.
    ``tg.jacrev(f)``, ``tg.grad(f)`` (per-example gradients) or ``tg.hessian(f)``. The shape and
    dtype of one row's result are found by running ``fn`` once on a row of zeros on the client;
    give ``out_shape`` (one row's result shape) and ``dtype`` to skip that (when zeros are not a
    valid input). Nothing is computed until the result is (``.compute()``, ``.persist()``, ...).

    >>> import dask, dask.array as da
    >>> import tapegrad.dask as tgd
    >>> x = da.from_array(np.arange(6.0, dtype=np.float32).reshape(3, 2), chunks=(2, 2))
    >>> jac = tgd.map_vmap(tg.jacrev(lambda r: r ** 2), x)
    >>> jac.shape, jac.dtype, jac.chunks
    ((3, 2, 2), dtype('float32'), ((2, 1), (2,), (2,)))
    >>> with dask.config.set(scheduler="sync"):
    ...     print(jac.compute()[2])
    [[ 8.  0.]
     [ 0. 10.]]
    """
    op = "tapegrad.dask.map_vmap"
    if not callable(fn):
        raise TypeError(f"{op}: fn must be callable, got {type(fn).__name__}")
    arrays = _align_rows(arrays, op)
    if out_shape is None or dtype is None:
        example = [np.zeros((1, *a.shape[1:]), dtype=a.dtype) for a in arrays]
        try:
            out = tg.vmap(fn)(*example)
        except Exception as e:
            raise type(e)(
                f"{op}: running fn on one row of zeros to find its output shape failed ({e}); "
                "give out_shape= and dtype="
            ) from e
        if not isinstance(out, Tensor):
            raise TypeError(f"{op}: fn must return one Tensor per row, got {type(out).__name__}")
        out_shape = tuple(out.shape[1:]) if out_shape is None else out_shape
        dtype = str(out.dtype.name) if dtype is None else dtype
    try:
        out_tail = tuple(int(n) for n in out_shape)
    except TypeError:
        raise TypeError(f"{op}: out_shape must be a tuple of ints, got {out_shape!r}") from None
    if any(n < 0 for n in out_tail):
        raise ValueError(f"{op}: out_shape must not have negative sizes, got {out_tail}")
    out_dtype = np.dtype(dtype)
    if out_dtype.name not in _pickle._DTYPE_NAMES:
        raise TypeError(f"{op}: dtype {out_dtype} is not a tapegrad dtype")

    args = []
    for k, a in enumerate(arrays):
        args += [a, ("i", *(f"a{k}_{d}" for d in range(1, a.ndim)))]
    out_ind = ("i", *(f"o{d}" for d in range(len(out_tail))))
    return da.blockwise(
        _chunk_vmap,
        out_ind,
        _Fn(fn),
        None,
        out_tail,
        None,
        out_dtype.str,
        None,
        *args,
        new_axes={f"o{d}": n for d, n in enumerate(out_tail)},
        concatenate=True,
        dtype=out_dtype,
        meta=np.empty((0,) * len(out_ind), dtype=out_dtype),
        name=f"tapegrad-map-vmap-{uuid.uuid4().hex}",
    )


# ---- registration with Dask --------------------------------------------------------------------------


@dask.sizeof.sizeof.register(Tensor)
def _sizeof_tensor(t):
    return int(t.size) * np.dtype(str(t.dtype.name)).itemsize + 100


def _serialize_tensor(t):
    data = contiguous_data(t)
    header = {"dtype": str(t.dtype.name), "shape": list(data.shape)}
    if isinstance(t, Parameter):
        header["parameter"] = {"name": t.name, "requires_grad": bool(t.requires_grad)}
    return header, [memoryview(data.reshape(-1).view(np.uint8))]


def _deserialize_tensor(header, frames):
    op = "tapegrad.dask: a serialised Tensor"
    if not isinstance(header, dict) or len(frames) != 1:
        raise ValueError(
            f"{op} needs a header dict and one frame, got {type(header).__name__} and {len(frames)} frames"
        )
    dtype, shape = header.get("dtype"), header.get("shape")
    if not isinstance(shape, (list, tuple)) or not all(
        isinstance(n, int) and n >= 0 for n in shape
    ):
        raise ValueError(f"{op} has a bad shape {shape!r}")
    if dtype not in _pickle._DTYPE_NAMES:
        raise ValueError(f"{op} has a bad dtype {dtype!r}")
    frame = memoryview(frames[0]).cast("B")
    need = math.prod(shape) * np.dtype(dtype).itemsize
    if frame.nbytes != need:
        raise ValueError(
            f"{op} of shape {tuple(shape)} {dtype} needs {need} bytes, got a frame of {frame.nbytes}"
        )
    data = array_from_parts(np.frombuffer(frame, dtype=dtype).reshape(shape), dtype, op)
    t = Tensor(data, dtype)
    par = header.get("parameter")
    if par is not None:
        return Parameter(t, name=par.get("name"), requires_grad=par.get("requires_grad", True))
    return t


_REGISTERED = []


def register_serialization(client=None):
    """Register Tensors and Parameters with Dask's serialisation (``distributed.protocol``'s "dask"
    family), so that they travel between the client and workers as a small msgpack header and one
    raw frame of values, with no pickle at all. Without it they already travel as pickle protocol 5
    with the values out of band (one raw frame, no copy into the stream).

    Both ends of a transfer must have it: give the ``client`` to register it on every worker of
    that cluster (current and future ones, through a worker plugin) as well as in this process;
    without a client it is registered in this process only. `value_and_grad` and `map_vmap` need
    none of this (they send numpy arrays). Returns True when ``distributed`` is installed.

    >>> import tapegrad.dask as tgd
    >>> from distributed.protocol import deserialize, serialize
    >>> tgd.register_serialization()
    True
    >>> header, frames = serialize(tg.arange(3.0))
    >>> header["serializer"], [bytes(f) for f in frames][-1]
    ('dask', b'\\x00\\x00\\x00\\x00\\x00\\x00\\x80?\\x00\\x00\\x00@')
    >>> deserialize(header, frames)
    Tensor(shape=[3], dtype=Float32, value= [ 0.00000000e+00,  1.00000000e+00,  2.00000000e+00])
    """
    try:
        from distributed.protocol import dask_deserialize, dask_serialize
    except ImportError:
        return False
    if not _REGISTERED:
        for cls in (Tensor, Parameter):
            dask_serialize.register(cls)(_serialize_tensor)
            dask_deserialize.register(cls)(_deserialize_tensor)
        _REGISTERED.append(True)
    if client is not None:
        client.register_plugin(_TapegradWorkerPlugin(), name="tapegrad-serialization")
    return True


class _TapegradWorkerPlugin(_WorkerPluginBase):
    """Runs `register_serialization` on each worker when it starts (a restarted one too)."""

    idempotent = True

    def setup(self, worker):
        register_serialization()

    def teardown(self, worker):
        pass
