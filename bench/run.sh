#!/usr/bin/env bash
# End-to-end benchmark: WikiStream's full replay vs DuckDB's bronze step and
# hourly aggregation on the same NDJSON input, plus simdjson parse-only as the
# practical limit. Prints a table and the ratios to the performance targets.
# DuckDB's bronze step is measured twice: with every bronze column (the raw
# payload included, what bronze.raw_events holds) and without `raw`.
#
# Usage: bench/run.sh [EVENTS=1000000] [INPUT.ndjson]
#   Generates INPUT with `wikistream generate EVENTS --seed 7` when not given.
# Environment: BUILD_DIR (default build), WORK (default /tmp/wikistream-bench),
#   RUNS (default 3: every measurement is repeated and the median reported).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-1000000}
BUILD_DIR=${BUILD_DIR:-build}
WORK=${WORK:-/tmp/wikistream-bench}
RUNS=${RUNS:-3}
BIN="$BUILD_DIR/wikistream"
mkdir -p "$WORK"
INPUT=${2:-$WORK/events-$EVENTS.ndjson}

[ -x "$BIN" ] || { echo "build first: scripts/build" >&2; exit 2; }
if [ ! -s "$INPUT" ]; then
  echo "generating $EVENTS events -> $INPUT" >&2
  "$BIN" generate "$EVENTS" --seed 7 > "$INPUT"
fi
BYTES=$(stat -c %s "$INPUT")
LINES=$(wc -l < "$INPUT")

measure() {  # measure NAME CMD... -> appends "NAME wall_s cpu_s maxrss_kb" to $WORK/results
  local name=$1; shift
  local tfile="$WORK/time-$name.txt"
  /usr/bin/env time -f "%e %U %S %M" -o "$tfile" "$@" > "$WORK/out-$name.txt" 2> "$WORK/err-$name.txt" || {
    echo "$name failed; see $WORK/err-$name.txt" >&2; tail -5 "$WORK/err-$name.txt" >&2; return 1; }
  read -r wall user sys rss < "$tfile"
  echo "$name $wall $(echo "$user + $sys" | bc) $rss" >> "$WORK/results"
}

rm -f "$WORK/results"
if [ -x "$BUILD_DIR/bench/ws_parse_only" ]; then
  measure parse_only "$BUILD_DIR/bench/ws_parse_only" "$INPUT"
fi
for run in $(seq 1 "$RUNS"); do
  for threads in 1 2; do
    rm -rf "$WORK/wh-$threads"
    measure "wikistream_t${threads}_r$run" "$BIN" run --source "replay:$INPUT" --once --http off \
      --warehouse "$WORK/wh-$threads" --threads "$threads" --log-level info
    measure "duckdb_t${threads}_r$run" node bench/duckdb_peer.mjs "$INPUT" "$WORK/duck-$threads" "$threads"
  done
done

node - "$WORK" "$EVENTS" "$BYTES" "$LINES" "$RUNS" <<'JS'
const fs = require('fs');
const [work, events, bytes, lines, runs] = process.argv.slice(2);
const res = {};
for (const l of fs.readFileSync(`${work}/results`, 'utf8').trim().split('\n')) {
  const [n, wall, cpu, rss] = l.split(' ');
  res[n] = { name: n, wall: +wall, cpu: +cpu, rss_mib: +rss / 1024 };
}
// The run with the median wall time stands for a configuration (its CPU,
// RSS and stage breakdown are printed with it); DuckDB's figures are the
// medians of its own timings.
const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
const medianRun = (prefix) => {
  const all = Object.values(res).filter((r) => r.name.startsWith(prefix));
  return all.sort((a, b) => a.wall - b.wall)[(all.length - 1) >> 1];
};
const duck = {};
for (const t of [1, 2]) {
  const outs = [...Array(+runs).keys()].map((i) =>
    JSON.parse(fs.readFileSync(`${work}/out-duckdb_t${t}_r${i + 1}.txt`, 'utf8')));
  duck[t] = { bronze_s: median(outs.map((o) => o.bronze_s)), hourly_s: median(outs.map((o) => o.hourly_s)),
              bronze_without_raw_s: median(outs.map((o) => o.bronze_without_raw_s)),
              rss_mib: medianRun(`duckdb_t${t}_`).rss_mib };
}
const stageLine = (t) => {
  const err = fs.readFileSync(`${work}/err-${medianRun(`wikistream_t${t}_`).name}.txt`, 'utf8').split('\n');
  const line = err.reverse().find((x) => x.includes('stage seconds'));
  return line ? line.slice(line.indexOf('stage seconds')) : '(no stage breakdown printed)';
};
console.log(`median of ${runs} run(s)`);
console.log(`input: ${events} events requested, ${lines} lines, ${(bytes / 1e6).toFixed(0)} MB`);
console.log(`machine: ${require('os').cpus()[0].model}, ${require('os').cpus().length} cores`);
if (res.parse_only) {
  const parsed = JSON.parse(fs.readFileSync(`${work}/out-parse_only.txt`, 'utf8'));
  console.log(`parse only (simdjson ${parsed.implementation}): ${res.parse_only.wall.toFixed(2)} s with reading the file, ` +
              `${parsed.seconds.toFixed(2)} s parsing (${(lines / parsed.seconds / 1e3).toFixed(0)}k lines/s)`);
}
for (const t of [1, 2]) {
  const w = medianRun(`wikistream_t${t}_`);
  const d = duck[t];
  console.log(`--- ${t} thread(s)`);
  console.log(`wikistream full replay: ${w.wall.toFixed(2)} s wall, ${w.cpu.toFixed(2)} s CPU, peak RSS ${w.rss_mib.toFixed(0)} MiB, ${(lines / w.wall / 1e3).toFixed(0)}k events/s`);
  console.log(`  ${stageLine(t)}`);
  console.log(`duckdb bronze step (all bronze columns, raw included): ${d.bronze_s.toFixed(2)} s (${(lines / d.bronze_s / 1e3).toFixed(0)}k events/s); ` +
              `peak RSS of the peer process ${d.rss_mib.toFixed(0)} MiB`);
  console.log(`duckdb bronze step without the raw column: ${d.bronze_without_raw_s.toFixed(2)} s, hourly: ${d.hourly_s.toFixed(2)} s`);
  const ingest = /ingest ([0-9.]+)/.exec(stageLine(t));
  if (ingest) console.log(`ratio duckdb bronze / wikistream ingest (bronze step): ${(d.bronze_s / +ingest[1]).toFixed(2)}x`);
  console.log(`ratio duckdb bronze / wikistream full replay: ${(d.bronze_s / w.wall).toFixed(2)}x`);
}
JS
