#!/bin/bash
# A Faultline sweep as a Slurm job array: 4 tasks, each running one interleaved shard of
# seeds 1..1001 of the bundled partition scenario. Slurm gives each task
# SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT, which
# `faultline sweep` reads when no --shard is given.
#
# Submit from the repository root, with `faultline` on PATH on every node: build it once
# on a node that has the Rust toolchain, into a directory the nodes share, e.g.
#
#   cargo install --locked --path . --root "$HOME/.local"   # then PATH=$HOME/.local/bin:$PATH
#
# or run the repository's Dockerfile image under your site's container runtime.
#
#   sbatch docs/recipes/slurm-array.sh
#
# and merge once every task is done (afterany: a task whose seeds fail a check exits 1):
#
#   sbatch --dependency=afterany:<job id> --wrap "faultline report results/shard-*"
#
#SBATCH --job-name=faultline-sweep
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --output=results/slurm-%A_%a.out
set -euo pipefail
mkdir -p results
faultline sweep scenarios/partition.json --seeds 1..1001 --jobs "${SLURM_CPUS_PER_TASK:-2}" --out "results/shard-${SLURM_ARRAY_TASK_ID}"
