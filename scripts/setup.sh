#!/usr/bin/env bash
# Installs what SBNLab needs on a fresh Debian machine: OpenBLAS, HDF5, zlib and pkg-config for
# the Swift build, Chromium for the TensorBoard page test, and h5py/pandas/matplotlib/tensorboard
# for the Python tests and analysis.
# Idempotent: does nothing when everything is already there.
set -euo pipefail

need_apt=()
for pkg in libopenblas-dev libhdf5-dev zlib1g-dev pkg-config chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! python3 -c "import h5py, tensorboard" >/dev/null 2>&1; then
  echo "setup: installing h5py, pandas, matplotlib and tensorboard (analysis/requirements.txt)"
  python3 -m pip install -q -r analysis/requirements.txt 2>/dev/null || python3 -m pip install -q h5py
fi

command -v swift >/dev/null || { echo "setup: swift (6.x) is not on PATH; install the Swift toolchain first" >&2; exit 1; }
