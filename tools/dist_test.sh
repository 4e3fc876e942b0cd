#!/usr/bin/env bash
# Distributed testing with torchrun, on one node or several.
#
# Usage: bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py arguments ...]
#   NNODES, NODE_RANK, PORT, MASTER_ADDR  torchrun's rendezvous (defaults: one node)
#   PYTHON  interpreter (default: the repository's .venv, else python)
# Example: bash tools/dist_test.sh CONFIG work_dirs/x/epoch_3.pth 8 --dump preds.pkl
set -euo pipefail

if (( $# < 3 )); then
  echo "usage: bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py arguments ...]" >&2
  exit 2
fi

CONFIG=$1
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
TOOLS="$(cd "$(dirname "$0")" && pwd)"
VENV_PY="$TOOLS/../.venv/bin/python"
[[ -x "$VENV_PY" ]] && DEFAULT_PY="$VENV_PY" || DEFAULT_PY=python
PYTHON=${PYTHON:-$DEFAULT_PY}

set -x
# `python -m torch.distributed.run` is torchrun, run by the chosen interpreter.
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --master_port="$PORT" \
    --nproc_per_node="$GPUS" \
    "$TOOLS/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
