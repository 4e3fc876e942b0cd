#!/usr/bin/env bash
# Distributed training with torchrun, on one node or several.
#
# Usage: bash tools/dist_train.sh CONFIG GPUS [train.py arguments ...]
#   NNODES, NODE_RANK, PORT, MASTER_ADDR  torchrun's rendezvous (defaults: one node)
#   MAX_RESTARTS  torchrun restarts the whole group this often after a failed
#                 rank (default 0); pass --resume so a restart continues from
#                 the last checkpoint (docs/distributed.md)
#   PYTHON  interpreter (default: the repository's .venv, else python)
# Example: bash tools/dist_train.sh configs/tsn/tsn_r50_1x1x3_realclips-cpu.py 8 --amp
set -euo pipefail

if (( $# < 2 )); then
  echo "usage: bash tools/dist_train.sh CONFIG GPUS [train.py arguments ...]" >&2
  exit 2
fi

CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MAX_RESTARTS=${MAX_RESTARTS:-0}
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
    --max-restarts="$MAX_RESTARTS" \
    "$TOOLS/train.py" "$CONFIG" --launcher pytorch "${@:3}"
