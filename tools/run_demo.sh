#!/usr/bin/env bash
# The README's main job: TSN vs KINet, on the same ImageNet-pretrained
# EfficientNet-Lite2, trained offline on ../shared/data/real_clips.
#
#   1. set up (or reuse) .venv/
#   2. run the pretrained teachers once over every clip: pseudo-label cache
#   3. train TSN-Lite2 and KINet-Lite2 on train.txt (same schedule and seed)
#   4. test both on val.txt
#   5. write work_dirs/demo/report/: both models' accuracy side by side, their
#      loss curves, teacher vs student masks and scene labels per val clip
#
# Usage: bash tools/run_demo.sh          (WORK_DIR=... to write elsewhere)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
PY=.venv/bin/python
KINET=configs/kinet/kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache.py
TSN=configs/tsn/tsn_efficientnet-lite2_1x1x3_realclips-cpu.py
WORK_DIR="${WORK_DIR:-work_dirs/demo}"
# The cache path is part of the KINet config's training pipeline. One cache
# of all three offline teachers (human, scene, pose) serves every real-clip
# cache config; each reads the tasks it has.
CACHE=work_dirs/pseudo_labels/realclips
TEACHERS=configs/kinet/kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache_human-scene-pose.py
# One OpenMP thread a process: on 2 busy cores, spinning threads slow a step.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
start=$(date +%s)
stamp() { printf '[run_demo %s, +%ss] %s\n' "$(date +%H:%M:%S)" "$(( $(date +%s) - start ))" "$*"; }

stamp "extracting pseudo labels into $CACHE (resumable; finished clips are skipped)"
$PY tools/extract_pseudo_labels.py "$TEACHERS" --split all --stride 2 --out "$CACHE"

for model in tsn kinet; do
  config=$TSN; [ "$model" = kinet ] && config=$KINET
  stamp "training $config"
  $PY tools/train.py "$config" --work-dir "$WORK_DIR/$model"  # seed 0 in both
  checkpoint=$(cat "$WORK_DIR/$model/last_checkpoint")
  stamp "testing $checkpoint"
  $PY tools/test.py "$config" "$checkpoint" --work-dir "$WORK_DIR/$model/test"
done

stamp "writing the report"
$PY tools/analysis/demo_report.py "$KINET" "$WORK_DIR/kinet" \
  --tsn-config "$TSN" --tsn-work-dir "$WORK_DIR/tsn" --out "$WORK_DIR/report"
stamp "done: $WORK_DIR/report/report.md"
