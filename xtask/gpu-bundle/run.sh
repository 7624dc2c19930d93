#!/usr/bin/env bash
# Every CUDA check, in one call, on a machine with an NVIDIA GPU and its driver (no Rust
# needed there): `cargo xtask gpu-bundle` builds the binaries beside this script; copy the
# folder to the GPU machine and run
#
#   bash gpu-bundle/run.sh
#
# Writes to $OUT if it is set, else ./gpu-out: log.txt (every step's output), summary.txt
# (one line per step: its exit status and seconds), sweep.json and bench.json. Each step
# has a time limit, and all of them together GPU_BUNDLE_SECONDS (default 500), so a run
# under an outer time limit still ends with its output intact.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
log=$out/log.txt
summary=$out/summary.txt
: >"$log"
: >"$summary"
end=$(($(date +%s) + ${GPU_BUNDLE_SECONDS:-500}))
cuda=cuda-naive,cuda-tiled,cuda-regtile,cuda-warptile,cuda-dmma,cublas
check_args=(--backend cuda-naive --backend cuda-tiled --backend cuda-regtile --backend cuda-warptile
  --backend cuda-dmma --backend cublas)

# step NAME LIMIT COMMAND...: runs COMMAND with its output in log.txt, at most LIMIT seconds
# (less if the whole budget is nearly spent), and records its status in summary.txt.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((end - $(date +%s)))
  if ((left < 15)); then
    echo "$name: not run (the time budget is spent)" | tee -a "$summary"
    return
  fi
  ((limit > left)) && limit=$left
  echo "===== $name (limit ${limit}s): $*" | tee -a "$log"
  local start
  start=$(date +%s)
  timeout "$limit" "$@" >>"$log" 2>&1
  local rc=$?
  local verdict="rc=$rc"
  ((rc == 124)) && verdict="TIMED OUT after ${limit}s"
  echo "$name: $verdict in $(($(date +%s) - start)) s" | tee -a "$summary" "$log"
}

cd "$here" || exit 1
{
  echo "bundle: $(cat "$here/BUILT_FROM" 2>/dev/null)"
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total --format=csv 2>&1
} | tee -a "$log"

step list 30 ./matmul-cli list
# The device-resident API (upload, time_kernel, time_config, copy_rates, download_c).
step unit 60 ./matmul-cuda-unit --nocapture
# The shared test grid on every CUDA backend; fails if one is unavailable.
step grid 150 env MATMUL_REQUIRE_GPU=1 ./availability --nocapture
# Every configuration against cuBLAS, n = 1024 … 8192: the tuning table.
step sweep 180 ./matmul-cli gpu-sweep --json "$out/sweep.json"
step check 150 ./matmul-cli check "${check_args[@]}"
step memcheck 150 compute-sanitizer --tool memcheck --error-exitcode 1 ./matmul-cli check --quick "${check_args[@]}"
step racecheck 150 compute-sanitizer --tool racecheck --error-exitcode 1 ./matmul-cli check --quick \
  --backend cuda-tiled --backend cuda-regtile --backend cuda-warptile --backend cuda-dmma
# The NVRTC gate with this machine's own NVRTC.
step nvrtc-gate 60 env MATMUL_REQUIRE_NVRTC=1 ./nvrtc-gate --nocapture
step bench 150 ./matmul-cli bench --backends "$cuda" --sizes 256,1024,4096 --threads 1 --layout-size 0 \
  --min-time 0.1 --json "$out/bench.json"
echo "===== summary" | tee -a "$log"
cat "$summary"
