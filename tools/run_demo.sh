#!/usr/bin/env bash
# The README's main job: an offline KINet demo on ../shared/data/real_clips.
#
#   1. set up (or reuse) .venv/
#   2. run the two pretrained teachers once over every clip: pseudo-label cache
#   3. train KINet-R18 on train.txt from that cache (CPU, 15 epochs)
#   4. test it on val.txt
#   5. write work_dirs/demo/report/: accuracy, loss curves, teacher vs student PNGs
#
# Usage: bash tools/run_demo.sh          (WORK_DIR=... to write elsewhere)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
PY=.venv/bin/python
CONFIG=configs/kinet/kinet_r18_1x1x3_realclips-cpu_cache.py
WORK_DIR="${WORK_DIR:-work_dirs/demo}"
# The cache path is part of the config's training pipeline.
CACHE=work_dirs/pseudo_labels/realclips
EPOCHS=15
start=$(date +%s)
stamp() { printf '[run_demo %s, +%ss] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - start ))" "$*"; }

stamp "extracting pseudo labels into $CACHE (resumable; finished clips are skipped)"
$PY tools/extract_pseudo_labels.py "$CONFIG" --split all --stride 2 --out "$CACHE"

stamp "training $CONFIG"
$PY tools/train.py "$CONFIG" --work-dir "$WORK_DIR" --cfg-options randomness.seed=0

CHECKPOINT="$WORK_DIR/epoch_$EPOCHS.pth"
stamp "testing $CHECKPOINT"
$PY tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR/test"

stamp "writing the report"
$PY tools/analysis/demo_report.py "$WORK_DIR" --config "$CONFIG" \
  --checkpoint "$CHECKPOINT" --test-dir "$WORK_DIR/test"
stamp "done: $WORK_DIR/report/report.md"
