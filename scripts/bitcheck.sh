#!/usr/bin/env bash
# Behaviour-preservation check for refactors: short runs of every registered estimator on both
# unit kinds (where they apply) plus 1-epoch sbn-gs and sbn-cat-gs, each printing its test NLL to
# the last bit and a hash of its final parameters. Run it with the old and the new executable and
# diff the two outputs:  scripts/bitcheck.sh OLD_BIN /tmp/a > a.txt; scripts/bitcheck.sh NEW_BIN /tmp/b > b.txt
set -euo pipefail
BIN=${1:?usage: bitcheck.sh SBNLAB_BINARY OUTDIR}
OUT=${2:?usage: bitcheck.sh SBNLAB_BINARY OUTDIR}
rm -rf "$OUT"; mkdir -p "$OUT"
SHORT=(--set epochs=1 --set data.train_limit=2000 --set data.valid_limit=300 --set data.test_limit=300
       --set samples.test=50 --set valid_every=1)
digest() {  # test NLL (repr) and a sha256 of every checkpoint tensor of a run file
  python3 - "$1" <<'PY'
import hashlib, sys, h5py
f = h5py.File(sys.argv[1], "r")
h = hashlib.sha256()
def visit(name, obj):
    if isinstance(obj, h5py.Dataset): h.update(name.encode()); h.update(obj[()].tobytes())
f["checkpoint"].visititems(visit)
print(repr(float(f["eval/test"].attrs["nll"])), h.hexdigest()[:16])
PY
}
run() {  # name, experiment file, extra args
  local name=$1 file=$2; shift 2
  "$BIN" run "$file" --out "$OUT/$name" --threads 2 "$@" >/dev/null
  printf '%-28s %s\n' "$name" "$(digest "$OUT/$name/run.h5")"
}
run sbn-gs-1epoch experiments/sbn-gs.yaml --set epochs=1
run sbn-cat-gs-1epoch experiments/sbn-cat-gs.yaml --set epochs=1
for e in gs st-gs st st-annealed reinforce darn muprop arm disarm rebar; do  # DARN_AS=taylor-half: the old darn under its new name
  n=$e; [ "$e" = darn ] && e=${DARN_AS:-darn}
  run "bern-$n" experiments/sbn-gs.yaml --set estimator=$e "${SHORT[@]}"
done
run bern-vimco experiments/sbn-gs.yaml --set estimator=vimco --set samples.train=3 "${SHORT[@]}"
run bern-reinforce-loo experiments/sbn-gs.yaml --set estimator=reinforce-loo --set samples.train=2 "${SHORT[@]}"
for e in gs st-gs st st-annealed reinforce darn muprop; do
  n=$e; [ "$e" = darn ] && e=${DARN_AS:-darn}
  run "cat-$n" experiments/sbn-cat-gs.yaml --set estimator=$e "${SHORT[@]}"
done
run cat-vimco experiments/sbn-cat-gs.yaml --set estimator=vimco --set samples.train=3 "${SHORT[@]}"
run cat-reinforce-loo experiments/sbn-cat-gs.yaml --set estimator=reinforce-loo --set samples.train=2 "${SHORT[@]}"
# One thread gives the same bits as two.
run bern-gs-1thread experiments/sbn-gs.yaml --set estimator=gs "${SHORT[@]}" --threads 1
