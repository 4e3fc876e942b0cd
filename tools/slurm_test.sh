#!/usr/bin/env bash
# Testing on a Slurm cluster with srun, one task per GPU.
#
# Usage: bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py arguments ...]
#   GPUS (8), GPUS_PER_NODE (8), CPUS_PER_TASK (5)  resources of the job
#   SRUN_ARGS  extra srun arguments, e.g. "--quotatype=auto"
#   PYTHON  interpreter (default: the repository's .venv, else python)
set -euo pipefail

if (( $# < 4 )); then
  echo "usage: bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py arguments ...]" >&2
  exit 2
fi

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
TOOLS="$(cd "$(dirname "$0")" && pwd)"
VENV_PY="$TOOLS/../.venv/bin/python"
[[ -x "$VENV_PY" ]] && DEFAULT_PY="$VENV_PY" || DEFAULT_PY=python
PYTHON=${PYTHON:-$DEFAULT_PY}
# MMEngine's slurm launcher reads MASTER_PORT; pick one per job.
export MASTER_PORT=${MASTER_PORT:-$((12000 + RANDOM % 20000))}

set -x
# SRUN_ARGS is split into words on purpose.
# shellcheck disable=SC2086
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "$PYTHON" -u "$TOOLS/test.py" "$CONFIG" "$CHECKPOINT" --launcher=slurm "${@:5}"
