#!/usr/bin/env bash
# Proves the CPU-only fallback: in a private mount namespace every nvcc is covered by
# an empty, non-executable file (as on a machine without a CUDA toolkit), then
# LNB_TORCH_IMPORT=auto must pick the wheel import, build lnbench and pass its
# self-check. The toolkit's shared libraries stay visible (the lean torch install
# uses them at run time; a machine without them gets the full torch install from
# scripts/lnb). Needs root (unshare -m). Usage: scripts/check_no_toolkit.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${LNB_CACHE:-$HOME/.cache/lnbench/v1}"
out="${1:-/tmp/lnb-no-toolkit}"
exec unshare -m bash -c "
  set -euo pipefail
  : > /tmp/lnb-no-nvcc; chmod 644 /tmp/lnb-no-nvcc
  for f in \$(which -a nvcc) /usr/local/cuda*/bin/nvcc; do [ -e \$f ] && mount --bind /tmp/lnb-no-nvcc \$f; done
  if which nvcc; then echo 'nvcc still visible' >&2; exit 1; fi
  export CCACHE_DIR='$cache/ccache' CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  rm -rf '$out'
  cmake -S '$root' -B '$out' -G Ninja -DLNB_PYTHON='$cache/venv/bin/python' -DLNB_BUILD_TESTS=OFF -DLNB_BUILD_BENCH=OFF \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache | grep 'lnbench:'
  cmake --build '$out' --target lnbench -j2 >/dev/null
  '$out/bin/lnbench' --version
  '$out/bin/lnbench' selfcheck | tail -5
"
