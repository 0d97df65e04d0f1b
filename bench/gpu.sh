#!/usr/bin/env bash
# GPU throughput of the neural engines, text in to braille out, against liblouis running on every
# host core in the same run, then the cnn engine's stages timed apart (code points to the GPU, model,
# decoding) with the model's achieved TFLOP/s. Run on a machine with a CUDA GPU, from the
# repository root:
#     bench/gpu.sh [--data corpus/heldout.txt] [--chars 2000000]
# Needs python3 with torch (CUDA build), numpy, rapidfuzz and liblouis; where liblouis cannot be
# installed system-wide, `eval "$(scripts/liblouis-env.sh DEBDIR)"` sets it up from Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" bench/translate.py --device cuda --louis-procs 0 --chars 2000000 "$@"
