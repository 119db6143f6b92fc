"""Figures: time (and for the growth suite, peak memory) against problem size, log-log, one line
per library. matplotlib is an optional extra (``pip install "tapegrad[bench]"``)."""

from __future__ import annotations

from .harness import ORDER
from .worker import TRACED

MISSING = (
    "--plot needs matplotlib, which is not installed: pip install matplotlib "
    '(or pip install "tapegrad[bench]")'
)


def available():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _style(lib):
    import matplotlib.pyplot as plt

    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    i = ORDER.index(lib) if lib in ORDER else len(ORDER)
    return {
        "color": colors[i % len(colors)],
        "marker": "os^vDPX"[i % 7],
        "linewidth": 2.2 if lib == "tapegrad" else 1.4,
        "markersize": 4,
    }


def _series(suite):
    """{group: [cases with a size, in order]} for groups with at least two sizes."""
    groups = {}
    for c in suite.cases:
        if c.size is not None:
            groups.setdefault(c.group, []).append(c)
    return {g: cs for g, cs in groups.items() if len(cs) >= 2}


def memory_of(lib, r):
    """The memory figure plotted for ``lib``: tracemalloc's peak where it sees the allocations,
    otherwise the peak-RSS increase."""
    if lib in TRACED and r.get("peak_traced") is not None:
        return r["peak_traced"]
    return r.get("peak_rss")


def _lines(ax, suite, libs, results, cases, value):
    for lib in libs:
        pts = []
        for c in cases:
            r = results.get(lib, {}).get(c.name) or {}
            v = value(lib, r)
            if v:  # a zero (below page granularity) cannot go on a log axis
                pts.append((c.size, v))
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, label=lib, **_style(lib))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.4)
    ax.grid(True, which="minor", alpha=0.12)


def plot_suite(suite, libs, run, path, subtitle=""):
    """Write the figure of one suite to ``path``; returns False when it has no size series."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = _series(suite)
    if not series:
        return False
    results = run["results"]
    memory = any(c.memory for cs in series.values() for c in cs)
    ncols = 2 if memory else min(len(series), 2)
    nrows = len(series) if memory else (len(series) + ncols - 1) // ncols
    width = max(5.2 * ncols, 8.0)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width, 3.6 * nrows + (0.8 if nrows == 1 else 0)), squeeze=False
    )
    flat = []
    for i, (group, cases) in enumerate(series.items()):
        ax = axes[i][0] if memory else axes[i // ncols][i % ncols]
        _lines(ax, suite, libs, results, cases, lambda lib, r: r.get("median"))
        ax.set_title(f"{group}: time", fontsize=10)
        ax.set_ylabel("seconds per call (median)")
        ax.set_xlabel("n" if "matmul" not in group else "n (matrix side)")
        flat.append(ax)
        if memory:
            ax = axes[i][1]
            _lines(ax, suite, libs, results, cases, memory_of)
            sizes = [c.size for c in cases]
            if group.lower().startswith("jacobian"):
                ax.plot(sizes, [4 * n * n for n in sizes], "k--", lw=0.8, label="output, 4n² B")
            else:
                ax.plot(sizes, [4 * n for n in sizes], "k:", lw=0.9, label="input, 4n B")
            ax.set_title(f"{group}: peak memory", fontsize=10)
            ax.set_ylabel("bytes above baseline")
            ax.set_xlabel("n")
            flat.append(ax)
    for ax in axes.flat:
        if ax not in flat:
            ax.set_visible(False)
    handles, labels = {}, []
    for ax in flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in handles:
                handles[lab] = h
                labels.append(lab)
    per_row = 8 if width >= 10 else 5
    fig.legend(
        [handles[k] for k in labels],
        labels,
        loc="lower center",
        fontsize=8,
        frameon=False,
        ncol=min(len(labels), per_row),
    )
    title = suite.title + (f"\n{subtitle}" if subtitle else "")
    fig.suptitle(title, fontsize=11)
    legend_rows = (len(labels) + per_row - 1) // per_row
    fig.tight_layout(rect=(0, (0.035 if nrows > 1 else 0.06) * (legend_rows + 1), 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    _shrink(path)
    return True


def _shrink(path):
    """Re-save a PNG with an adaptive 128-colour palette: a third of the size, same look."""
    try:
        from PIL import Image
    except ImportError:  # Pillow comes with matplotlib, but the figure is fine without this
        return
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
