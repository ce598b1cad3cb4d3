#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets of Fuzz/ (Swift's -sanitize=fuzzer), seeds each corpus
# from real files, and runs each target for SECONDS. A crash (trap, abort, sanitizer report or
# out-of-memory) fails the run and leaves its input in Fuzz/crashes/; make it a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
# libFuzzer reports each fault with its own stack; Swift's runtime backtracer would start a
# swift-backtrace process per fault as well, and one that hangs keeps a re-run's pipe open.
export SWIFT_BACKTRACE=enable=no
BIN=.build/release/sbnlab
WORK=.build/fuzz
rm -rf "$WORK/corpus"; mkdir -p "$WORK/corpus"/{FuzzResults,FuzzCheckpoint,FuzzDataset,FuzzConfig} Fuzz/crashes

# Seeds: a small finished run and its summary, a run stopped inside an epoch, a small prepared
# dataset, and every experiment definition (with a few --set lines).
seeds="$WORK/seeds"; rm -rf "$seeds"; mkdir -p "$seeds"
small=(--set epochs=2 --set valid_every=1 --set data.train_limit=300 --set data.valid_limit=50 --set data.test_limit=20
       --set samples.test=5 --set batch_size=50)
$BIN run experiments/sbn-gs.yaml "${small[@]}" --out "$seeds/sbn" --threads 1 >/dev/null
$BIN run experiments/vae-cat-gs.yaml "${small[@]}" --set model.encoder_hidden=[16] --set model.decoder_hidden=[16] \
  --out "$seeds/vae" --threads 1 >/dev/null
$BIN run experiments/sbn-reinforce.yaml "${small[@]}" --out "$seeds/stopped" --stop-after 1 --threads 1 >/dev/null
$BIN collect "$seeds" >/dev/null
for f in sbn vae stopped; do cp "$seeds/$f/run.h5" "$WORK/corpus/FuzzResults/$f.h5"; cp "$seeds/$f/run.h5" "$WORK/corpus/FuzzCheckpoint/$f.h5"; done
cp "$seeds/summary.h5" "$WORK/corpus/FuzzResults/summary.h5"
python3 - "$WORK/corpus/FuzzDataset/small.h5" <<'PY'
import hashlib, sys, h5py
src = h5py.File("data/binarized_mnist.h5", "r")
with h5py.File(sys.argv[1], "w") as out:
    for split in ("train", "valid", "test"):
        images = src[split + "/images"][:20]
        g = out.create_group(split)
        g.create_dataset("images", data=images)
        g.attrs["sha256"] = hashlib.sha256(images.tobytes()).hexdigest()
PY
for f in experiments/*.yaml; do
  { cat "$f"; printf '\n---sets---\nepochs=3\nsamples.test=5\n'; } > "$WORK/corpus/FuzzConfig/$(basename "$f")"
done

swift build -c release --package-path Fuzz -Xswiftc -sanitize=fuzzer 2>&1 | grep -E "error|Build complete" || true
# Each target is a dynamic library exporting LLVMFuzzerTestOneInput; libFuzzer's main comes with
# -fsanitize=fuzzer at this link (SwiftPM executables would bring their own main).
LIB=$PWD/Fuzz/.build/release
echo 'int sbnlab_fuzz_driver;' > "$WORK/driver.c"
for target in FuzzResults FuzzCheckpoint FuzzDataset FuzzConfig; do
  clang -fsanitize=fuzzer "$WORK/driver.c" -L "$LIB" -l$target -Wl,-rpath,"$LIB" \
    -Wl,-rpath,"$(dirname "$(command -v swift)")/../lib/swift/linux" -o "$WORK/$target"
done
status=0
# Re-runs a saved input alone and prints its report. A fault that first corrupted the heap (libhdf5's
# H5HG_read) can deadlock the report itself, in malloc inside the fault handler, before any frame is
# printed: after 20 s the faulting pc is looked up in the hung process's own memory map and printed
# as frame #0 with its library, and the process is killed.
rerun() {
  local target=$1 input=$2 log pid pc
  log=$(mktemp)
  "$WORK/$target" -timeout=5 -rss_limit_mb=2048 -malloc_limit_mb=2048 "$input" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  if kill -0 "$pid" 2>/dev/null; then
    pc=$(grep -oE '\(pc 0x[0-9a-f]+' "$log" | head -1 | cut -c5-)
    if [ -n "$pc" ]; then
      while read -r range _ _ _ _ path; do
        if (( pc >= 16#${range%-*} && pc < 16#${range#*-} )); then
          echo "    #0 $pc ($path) [the report hung; frame from the memory map]" >>"$log"; break
        fi
      done <"/proc/$pid/maps"
    fi
    kill -9 "$pid"
  fi
  wait "$pid" 2>/dev/null || true
  cat "$log"; rm -f "$log"
}
# Classifies a saved input by re-running it alone: "ours" unless the frames above the first
# SBNLab frame are libhdf5 (or libc called from it), i.e. the fault is inside libhdf5 itself.
classify() {
  local target=$1 input=$2 out frames
  out=$(rerun "$target" "$input")
  printf '%s\n' "$out" > "$input.rerun"  # the rerun's report, for the log and for a regression test
  # Alone it runs clean: the fault came from state an earlier input of the same fork job left
  # (libhdf5's heap corruption shows up later); reported, not counted as SBNLab's.
  if grep -q '^Executed ' <<<"$out" && ! grep -q 'ERROR' <<<"$out"; then echo "unreproduced"; return; fi
  frames=$(grep -E '^ +#[0-9]+ ' <<<"$out" | grep -vE 'compiler-rt|fuzzer::|__sanitizer|libc\.so|string/|memmove|memcpy')
  if [ -z "$frames" ]; then echo "unknown"; return; fi
  if sed -n '1,/Sources\//p' <<<"$frames" | grep -v 'Sources/' | grep -qv 'libhdf5'; then echo "ours"; return; fi
  if ! grep -q libhdf5 <<<"$frames"; then echo "ours"; return; fi
  echo "libhdf5 ($(grep -q 'timeout' <<<"$out" && echo "no return" || echo "fault") in $(grep -oE 'in H5[A-Za-z_]+' <<<"$out" | head -1 | cut -c4-), $(basename "$input"))"
}
for target in FuzzResults FuzzCheckpoint FuzzDataset FuzzConfig; do
  log="$WORK/$target.log"
  before=$(ls Fuzz/crashes/ 2>/dev/null | grep -v '\.rerun$' | grep -c "^$target-" || true)
  # The .h5 readers write each input to a file first: keep their inputs modest. Fork mode, so that
  # an input on which libhdf5 itself faults or never returns (HDF5 1.10's global-heap reader on a
  # corrupted heap, H5HG_read: nothing can guard it in-process; the command line reads such files in
  # a child process first, IsolatedRead, and these targets call the readers directly) is saved and fuzzing goes on;
  # every saved input is then classified, and one that faults in SBNLab's code fails the run.
  # Memory: the same 2 GB limits as the re-run in classify, and a single malloc over the limit is
  # reported with its stack, so that an out-of-memory input is classified like a crash.
  # A fuzzing job whose fault report deadlocks (above) would hold the run: the whole process
  # group is killed 5 minutes after the budget.
  timeout -s KILL $((SECONDS_PER_TARGET + 300)) "$WORK/$target" "$WORK/corpus/$target" -fork=1 -ignore_timeouts=1 -ignore_crashes=1 -ignore_ooms=1 \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=400000 -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=5 \
    -artifact_prefix="Fuzz/crashes/$target-" >"$log" 2>&1 || true  # exits 70 after a recorded timeout
  runs=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  found=$(grep -Eo 'oom/timeout/crash: [0-9]+/[0-9]+/[0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ours=0; libhdf5=""; unreproduced=""
  for input in $(ls -t Fuzz/crashes/$target-* 2>/dev/null | grep -v '\.rerun$' | head -n $(( $(ls Fuzz/crashes/ | grep -v '\.rerun$' | grep -c "^$target-" || true) - before ))); do
    kind=$(classify "$target" "$input")
    if [ "$kind" = ours ] || [ "$kind" = unknown ]; then ours=$((ours + 1)); status=1; echo "  SBNLab crash: $input (rerun: $WORK/$target $input)"
      grep -E '^(==|SUMMARY| +#[0-9]+ )' "$input.rerun" | head -14 | sed 's/^/    /'
    elif [ "$kind" = unreproduced ]; then unreproduced="$unreproduced $(basename "$input")"; else libhdf5="$libhdf5 $kind"; fi
  done
  echo "fuzz $target: ${runs:-?} executions in ${SECONDS_PER_TARGET} s; oom/timeout/crash ${found:-0/0/0}; in SBNLab's code: $ours${unreproduced:+; clean when re-run alone:$unreproduced}${libhdf5:+; inside libhdf5:$libhdf5}"
done
exit $status
