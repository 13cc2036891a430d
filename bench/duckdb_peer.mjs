// The peer measurement: DuckDB 1.5 doing WikiStream's bronze step and the
// hourly aggregation on the same NDJSON input, with a given thread count.
// Usage: node bench/duckdb_peer.mjs INPUT.ndjson OUT_DIR THREADS
// Prints one JSON object: {"threads":..,"bronze_s":..,"bronze_without_raw_s":..,"hourly_s":..,"rows":..}.
import { DuckDBInstance } from '@duckdb/node-api';
import { rmSync, mkdirSync } from 'node:fs';

const [input, outDir, threadsArg] = process.argv.slice(2);
if (!input || !outDir) {
  console.error('usage: node bench/duckdb_peer.mjs INPUT.ndjson OUT_DIR [THREADS]');
  process.exit(2);
}
const threads = Number(threadsArg || 1);
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const con = await db.connect();

// The fields bronze.raw_events keeps; malformed lines skipped (DuckDB only
// tolerates them with ignore_errors), the 18 default wikis kept.
const eventType = `{"meta":{"id":"VARCHAR","domain":"VARCHAR","dt":"VARCHAR","topic":"VARCHAR","partition":"INTEGER","offset":"BIGINT"},
  "id":"BIGINT","type":"VARCHAR","namespace":"INTEGER","title":"VARCHAR","title_url":"VARCHAR","user":"VARCHAR",
  "bot":"BOOLEAN","minor":"BOOLEAN","patrolled":"BOOLEAN","comment":"VARCHAR","length":{"old":"INTEGER","new":"INTEGER"},
  "revision":{"old":"BIGINT","new":"BIGINT"},"log_type":"VARCHAR","log_action":"VARCHAR","timestamp":"BIGINT",
  "wiki":"VARCHAR","server_name":"VARCHAR"}`;
const source = `read_json('${input}', format='newline_delimited', ignore_errors=true, maximum_object_size=2097152,
  columns={meta: 'STRUCT(id VARCHAR, domain VARCHAR, dt VARCHAR, topic VARCHAR, "partition" INTEGER, "offset" BIGINT)',
           id: 'BIGINT', type: 'VARCHAR', namespace: 'INTEGER', title: 'VARCHAR', title_url: 'VARCHAR',
           "user": 'VARCHAR', bot: 'BOOLEAN', minor: 'BOOLEAN', patrolled: 'BOOLEAN', comment: 'VARCHAR',
           length: 'STRUCT(old INTEGER, new INTEGER)', revision: 'STRUCT(old BIGINT, new BIGINT)',
           log_type: 'VARCHAR', log_action: 'VARCHAR', "timestamp": 'BIGINT', wiki: 'VARCHAR', server_name: 'VARCHAR'})`;
// The same fields plus each line's text as received: bronze's `raw` column.
const sourceWithRaw = `(SELECT json::VARCHAR AS raw, unnest(from_json(json, '${eventType}'))
  FROM read_ndjson_objects('${input}', ignore_errors=true, maximum_object_size=2097152))`;
const domains = ['zh','ja','ko','vi','id','th','de','fr','it','es','pl','nl','ru','en','pt','ar','fa','he']
  .map((c) => `'${c}.wikipedia.org'`).join(',');

const bronzeSql = (from, extra, out) => `COPY (
  SELECT meta.id AS event_id, id AS rc_id, type AS event_type, namespace, meta.domain AS domain, wiki, server_name,
         title, title_url, "user", coalesce(bot, false) AS is_bot, minor AS is_minor, patrolled AS is_patrolled, comment,
         length.old AS length_old, length.new AS length_new,
         CASE WHEN length.old IS NOT NULL AND length.new IS NOT NULL THEN length.new - length.old
              WHEN type = 'new' AND length.old IS NULL THEN length.new END AS length_delta,
         revision.old AS revision_old, revision.new AS revision_new, log_type, log_action,
         to_timestamp("timestamp") AS event_timestamp, meta.dt::TIMESTAMPTZ AS meta_dt,
         meta.topic AS meta_topic, meta."partition" AS meta_partition, meta."offset" AS meta_offset,
         'replay' AS source, now() AS ingested_at, now() AS bronze_processed_at, ${extra}
         strftime(to_timestamp("timestamp") AT TIME ZONE 'UTC', '%Y-%m-%d') AS event_date,
         hour(to_timestamp("timestamp") AT TIME ZONE 'UTC') AS event_hour
  FROM ${from}
  WHERE meta.domain IN (${domains}) AND meta.id IS NOT NULL)
  TO '${out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (event_date, event_hour))`;

const hourlySql = `SELECT strftime(to_timestamp("timestamp") AT TIME ZONE 'UTC', '%Y-%m-%d') AS d,
    hour(to_timestamp("timestamp") AT TIME ZONE 'UTC') AS h, meta.domain AS domain, count(*) AS total,
    count(DISTINCT "user") AS users, count(DISTINCT title) AS pages,
    sum(CASE WHEN length.new - length.old > 0 THEN length.new - length.old ELSE 0 END) AS bytes_added,
    sum(CASE WHEN bot THEN 1 ELSE 0 END) AS bot_edits
  FROM ${source} WHERE meta.domain IN (${domains}) GROUP BY ALL`;

await con.run("SET timezone='UTC'");
// The complete bronze step (every column, `raw` included), then the same
// without `raw`: the columns DuckDB's JSON reader alone can give.
let t = performance.now();
await con.run(bronzeSql(sourceWithRaw, 'raw,', `${outDir}/bronze`));
const bronzeS = (performance.now() - t) / 1000;
t = performance.now();
await con.run(bronzeSql(source, '', `${outDir}/bronze-without-raw`));
const bronzeWithoutRawS = (performance.now() - t) / 1000;
t = performance.now();
const hourly = await con.runAndReadAll(hourlySql);
const hourlyS = (performance.now() - t) / 1000;
const rows = await con.runAndReadAll(`SELECT count(*) FROM read_parquet('${outDir}/bronze/**/*.parquet')`);
console.log(JSON.stringify({ threads, bronze_s: bronzeS, bronze_without_raw_s: bronzeWithoutRawS, hourly_s: hourlyS,
  hourly_groups: hourly.currentRowCount, rows: Number(rows.getRows()[0][0]) }));
