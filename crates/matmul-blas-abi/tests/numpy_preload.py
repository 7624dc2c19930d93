"""numpy's `A @ B` through libmatmul_blas, loaded with LD_PRELOAD in front of the system BLAS.

    python3 numpy_preload.py LIB

runs this script three times in fresh processes: without the library (the reference
products and the system BLAS's time), with it (products checked against the reference,
time), and with it and a deliberately slow backend (naive-ijk), whose much longer time
proves that our library, not the system BLAS, answered numpy's calls. Exits 1 on failure.
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

N_TIMED = 1024
N_SLOW = 512


def operands(dtype):
    rng = np.random.default_rng(7)
    big = rng.uniform(-1, 1, (300, 260)).astype(dtype)
    a = rng.uniform(-1, 1, (70, 90)).astype(dtype)
    b = rng.uniform(-1, 1, (90, 50)).astype(dtype)
    return {
        "plain": (a, b),
        "a transposed": (np.ascontiguousarray(a.T).T, b),
        "b transposed": (a, np.ascontiguousarray(b.T).T),
        "both transposed": (np.asfortranarray(a), np.asfortranarray(b)),
        "padded slices": (big[:70, :90], big[100:190, 7:57]),
        "strided": (big[::3, ::2][:70, :90], big[::2, 1::3][:90, :50]),
        "matrix-vector": (a, b[:, :1]),
    }


def median_seconds(f, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def child(mode, store):
    loaded = any("libmatmul_blas" in line for line in open("/proc/self/maps"))
    if loaded != mode.endswith("matmul"):
        print(f"FAIL {mode}: libmatmul_blas loaded = {loaded}")
        return 1
    if mode.startswith("slow"):
        x = np.random.default_rng(1).uniform(-1, 1, (N_SLOW, N_SLOW))
        print(f"{mode}: A @ B, n = {N_SLOW}, f64: {median_seconds(lambda: x @ x, 3) * 1e3:.1f} ms")
        return 0
    failures = 0
    for dtype in (np.float32, np.float64):
        for name, (a, b) in operands(dtype).items():
            key = f"{np.dtype(dtype).name} {name}"
            c = a @ b
            if mode == "system":
                np.save(os.path.join(store, key + ".npy"), c)
                continue
            want = np.load(os.path.join(store, key + ".npy"))
            # Both results lie within the bound of a length-k dot product, γ_{k+2}·|A|·|B|,
            # of the exact one, so they differ by at most twice that.
            k = a.shape[1]
            u = np.finfo(dtype).eps / 2
            bound = 2 * (k + 2) * u / (1 - (k + 2) * u) * (np.abs(a).astype(np.float64) @ np.abs(b))
            err = np.abs(c.astype(np.float64) - want.astype(np.float64))
            ok = c.dtype == want.dtype and c.shape == want.shape and bool(np.all(err <= bound))
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {mode}: {key}: max err/bound {np.max(err / np.maximum(bound, 1e-300)):.2e}")
    for dtype in (np.float64, np.float32):
        x = np.random.default_rng(2).uniform(-1, 1, (N_TIMED, N_TIMED)).astype(dtype)
        x @ x
        t = median_seconds(lambda: x @ x, 5)
        gflops = 2 * N_TIMED**3 / t / 1e9
        print(f"{mode}: A @ B, n = {N_TIMED}, {np.dtype(dtype).name}: {t * 1e3:.1f} ms ({gflops:.1f} GFLOP/s)")
    return failures


def main():
    if len(sys.argv) == 4:
        return child(sys.argv[2], sys.argv[3])
    lib = os.path.abspath(sys.argv[1])
    failures = 0
    slow_ms = {}
    with tempfile.TemporaryDirectory() as store:
        for mode, env in [
            ("system", {}),
            ("matmul", {"LD_PRELOAD": lib}),
            ("slow-system", {}),
            ("slow-matmul", {"LD_PRELOAD": lib, "MATMUL_BACKEND": "naive-ijk"}),
        ]:
            run = subprocess.run(
                [sys.executable, __file__, lib, mode, store],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
            )
            print(run.stdout + run.stderr, end="")
            failures += run.returncode != 0
            for line in run.stdout.splitlines():
                if f"n = {N_SLOW}" in line:
                    slow_ms[mode] = float(line.split(": ")[-1].split(" ms")[0])
    if len(slow_ms) == 2:
        ratio = slow_ms["slow-matmul"] / slow_ms["slow-system"]
        # naive-ijk runs near 1 GFLOP/s at this size, any BLAS at tens: a ratio this large
        # cannot come from machine noise.
        ok = ratio > 5
        failures += not ok
        print(
            f"{'ok  ' if ok else 'FAIL'} with MATMUL_BACKEND=naive-ijk, A @ B ran {ratio:.0f}x slower "
            "than on the system BLAS: our library answered numpy's calls"
        )
    print("numpy through LD_PRELOAD:", "PASS" if failures == 0 else f"{failures} FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
