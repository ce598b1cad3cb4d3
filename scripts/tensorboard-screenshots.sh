#!/usr/bin/env bash
# The TensorBoard screenshots in docs/figures: a short real sweep (4 estimators x 3 seeds, 10
# epochs), served by tensorboard and photographed by headless Chromium (Debian's `chromium`).
# Usage: scripts/tensorboard-screenshots.sh [SWEEP_FOLDER]  (default: a new temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)/sweep}
bin=.build/release/sbnlab
[ -f "$out/summary.h5" ] || $bin sweep experiments/sweep-estimators.yaml --set epochs=10 --set valid_every=1 \
  --set samples.test=100 --jobs 1 --out "$out"
port=6131
python3 -m tensorboard.main --logdir "$out" --host 127.0.0.1 --port $port >/dev/null 2>&1 &
server=$!
trap 'kill -9 $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/data/runs" >/dev/null && break; sleep 1; done
shot() {
  chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1600,1000 \
    --virtual-time-budget=20000 --screenshot="$2" "http://127.0.0.1:$port/?darkMode=false#$1" >/dev/null 2>&1
  echo "wrote $2"
}
shot "scalars&tagFilter=valid&_smoothingWeight=0" docs/figures/tensorboard-scalars.png
shot "hparams" docs/figures/tensorboard-hparams.png
