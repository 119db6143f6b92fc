"""Full-batch L-BFGS on Dask: scipy.optimize.minimize with the exact gradient over all rows.

Each function evaluation is one tapegrad.dask.value_and_grad over the Dask arrays (the loss and
its gradient summed over every chunk on the workers); SciPy's L-BFGS-B runs on the client on the
33 parameters only.

    python examples/dask_lbfgs.py --rows 1000000
    python examples/dask_lbfgs.py --address tcp://scheduler:8786

Needs: pip install "tapegrad[dask]" scipy.
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.optimize
from dask_train import (  # the same rows as the SGD/Adam example
    local_cluster,
    make_data,
    persist_evenly,
)
from distributed import Client

import tapegrad as tg
import tapegrad.dask as tgd


def loss(theta, x, y):
    """Mean logistic loss; theta = (w..., b) in float64 (SciPy's dtype)."""
    z = x @ theta[:-1] + theta[-1]
    return (tg.softplus(z) - y * z).mean()


def fit(x, y, maxiter=50):
    features = x.shape[1]

    def fun(theta):
        value, grad = tgd.value_and_grad(loss, theta, x, y, reduce="mean")
        return float(value), np.asarray(grad, dtype=np.float64)

    return scipy.optimize.minimize(
        fun, np.zeros(features + 1), jac=True, method="L-BFGS-B", options={"maxiter": maxiter}
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=32)
    ap.add_argument("--chunk-rows", type=int, default=None)
    ap.add_argument("--maxiter", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--address", default=None)
    args = ap.parse_args(argv)
    chunk_rows = args.chunk_rows or max(1, min(1_000_000, -(-args.rows // 20)))
    if args.address:
        client, cluster = Client(args.address), None
    else:
        cluster = local_cluster(args.workers)
        client = Client(cluster)
    try:
        x, y, true_w = make_data(args.rows, args.features, chunk_rows)
        x, y = persist_evenly(client, x, y)
        res = fit(x, y, args.maxiter)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    corr = float(np.corrcoef(res.x[:-1], true_w)[0, 1])
    print(
        f"L-BFGS-B: {res.message} after {res.nit} iterations, {res.nfev} evaluations; "
        f"loss {res.fun:.5f}; corr(w, true w) = {corr:.3f}; b = {res.x[-1]:.3f}"
    )
    return res


if __name__ == "__main__":
    main()
