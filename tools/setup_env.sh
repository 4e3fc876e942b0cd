#!/usr/bin/env bash
# Create (or reuse) .venv/ with the pinned, verified OpenMMLab stack and kinet_mm.
#
# Idempotent: a second run with nothing changed only re-checks the imports (seconds).
# The one slow step, building mmcv 2.1.0 with compiled ops (11-30 min on 2 cores),
# caches its wheel in $KINET_WHEEL_CACHE, so a rebuilt venv reuses it.
#
# Usage: bash tools/setup_env.sh            (from anywhere)
#   PYTHON=python3.11  interpreter for the venv (default: python3)
#   KINET_WHEEL_CACHE  where the built mmcv wheel is kept (default: ~/.cache/kinet_mm/wheels)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
PYTHON="${PYTHON:-python3}"
WHEELS="${KINET_WHEEL_CACHE:-$HOME/.cache/kinet_mm/wheels}"
MMCV_VERSION=2.1.0
STAMP="$VENV/.kinet_mm_stamp"
# Everything that decides the venv's content; a change to any re-runs the install.
FINGERPRINT="$(cat "$ROOT/tools/setup_env.sh" "$ROOT/requirements/"*.txt "$ROOT/setup.cfg" "$ROOT/setup.py" | sha256sum | cut -d' ' -f1)"

log() { printf '[setup_env %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

check_imports() {
  "$PY" - <<'EOF'
import kinet_mm, mmaction.models, mmseg.models, mmpretrain.models, mmcv.ops, decord  # noqa
import mmdeploy.apis, onnx, onnxruntime  # noqa
EOF
}

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$FINGERPRINT" ]] && check_imports 2>/dev/null; then
  log "environment up to date: $VENV"
  exit 0
fi

[[ -x "$PY" ]] || { log "creating $VENV"; "$PYTHON" -m venv "$VENV"; }
PIP=("$PY" -m pip --disable-pip-version-check)

log "build tools"
"${PIP[@]}" install -q --upgrade "pip>=24" -r "$ROOT/requirements/build.txt"

log "torch + torchvision"
"${PIP[@]}" install -q -r "$ROOT/requirements/torch.txt"

build_mmcv() {
  # mmcv 2.1.0 has no wheel for torch 2.14: build it from the sdist, with ops.
  # torch>=2.10 headers need C++20 while mmcv's setup.py hard-codes -std=c++17.
  local tmp
  tmp="$(mktemp -d)"
  log "building mmcv $MMCV_VERSION with ops (11-30 minutes on 2 cores)"
  "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_VERSION" -d "$tmp"
  tar -xzf "$tmp"/mmcv-"$MMCV_VERSION".tar.gz -C "$tmp"
  sed -i 's/-std=c++17/-std=c++20/g' "$tmp/mmcv-$MMCV_VERSION/setup.py"
  grep -q -- '-std=c++20' "$tmp/mmcv-$MMCV_VERSION/setup.py" || {
    log "mmcv setup.py no longer contains -std=c++17; review the patch"; exit 1; }
  mkdir -p "$WHEELS"
  (cd "$tmp/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="$(nproc)" \
    "${PIP[@]}" wheel -q --no-deps --no-build-isolation -w "$tmp/dist" . \
    > "$tmp/build.log" 2>&1) || { tail -50 "$tmp/build.log"; log "mmcv build failed"; exit 1; }
  # Atomic publish: an interrupted build never leaves a half-written wheel in the cache.
  local whl
  whl="$(ls "$tmp"/dist/mmcv-*.whl)"
  cp "$whl" "$WHEELS/.partial.whl" && mv "$WHEELS/.partial.whl" "$WHEELS/$(basename "$whl")"
  rm -rf "$tmp"
}

if ! "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
  ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1 || build_mmcv
  log "installing cached mmcv wheel from $WHEELS"
  "${PIP[@]}" install -q --no-deps "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl
fi

log "OpenMMLab stack, demo teachers, test tools, kinet_mm (editable)"
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt"
"${PIP[@]}" install -q --no-build-isolation --no-deps -e "$ROOT"

log "MMDeploy, ONNX Runtime (docs/deploy.md)"
"${PIP[@]}" install -q -r "$ROOT/requirements/deploy.txt"
# mmdeploy 1.3.1 declares protobuf<=3.20.2; the stack needs protobuf 4.25.9
# (mediapipe, onnx), so it goes in without its metadata's dependencies.
"${PIP[@]}" install -q --no-deps -r "$ROOT/requirements/deploy-nodeps.txt"

log "pip check"
# decord 0.6.0's wheel metadata claims a cp36 tag, so pip check calls it
# "not supported on this platform" although it imports and decodes fine
# (tests/test_entrypoints.py decodes the real clips with it). Ignore that line only.
# mmdeploy 1.3.1's metadata pins protobuf<=3.20.2 (see above); it exports and
# runs ONNX Runtime/TorchScript models with 4.25.9 (tests/test_mmdeploy.py).
# Ignore exactly that line too.
conflicts="$("${PIP[@]}" check 2>&1 \
  | grep -v '^decord 0.6.0 is not supported on this platform$' \
  | grep -v '^mmdeploy 1.3.1 has requirement protobuf<=3.20.2, but you have protobuf 4.25.9.$' || true)"
if [[ -n "$conflicts" && "$conflicts" != "No broken requirements found." ]]; then
  printf '%s\n' "$conflicts"; log "pip check found conflicts"; exit 1
fi
check_imports
echo "$FINGERPRINT" > "$STAMP"
log "done: $VENV"
