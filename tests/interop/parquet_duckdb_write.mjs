// DuckDB writes Parquet files for WikiStream's reader to read.
// Usage: node parquet_duckdb_write.mjs DIR
// Writes DIR/<codec>_<dict>_<version>.parquet for codec in {zstd, snappy,
// uncompressed}, dict in {dict, plain} and version in {v1, v2} (v2: data page
// v2 with DELTA_* and BYTE_STREAM_SPLIT encodings) from one query, plus
// DIR/expected.json with the same rows (bigints/timestamps as strings, blobs hex).
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const dir = process.argv[2];
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`SET TimeZone = 'UTC'`);
await con.run(`CREATE TABLE t AS SELECT
    i::INTEGER AS i32,
    (i * 1000003)::BIGINT AS i64,
    CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 0.5)::DOUBLE END AS dbl,
    i % 3 = 0 AS flag,
    CASE WHEN i % 5 = 0 THEN NULL ELSE 'wiki-' || (i % 13)::VARCHAR END AS s,
    repeat('é', i % 4) || i::VARCHAR AS u,
    CASE WHEN i % 11 = 0 THEN NULL ELSE TIMESTAMPTZ '2024-05-01 12:00:00+00' + to_microseconds(i * 1234567) END AS ts,
    ('\\x' || lpad(to_hex(i % 256), 2, '0'))::BLOB AS b
  FROM range(0, 5000) r(i)`);
for (const codec of ['zstd', 'snappy', 'uncompressed']) {
  for (const dict of ['dict', 'plain']) {
    for (const version of ['v1', 'v2']) {
      const f = path.join(dir, `${codec}_${dict}_${version}.parquet`).replace(/'/g, "''");
      const extra = dict === 'plain' ? ', DICTIONARY_SIZE_LIMIT 1' : '';
      await con.run(`COPY t TO '${f}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 2048,
                     PARQUET_VERSION ${version.toUpperCase()}${extra})`);
    }
  }
}
const rows = (await con.runAndReadAll(`SELECT i32, i64::VARCHAR AS i64, dbl, flag, s, u,
    epoch_us(ts)::VARCHAR AS ts, lower(hex(b)) AS b FROM t`)).getRowObjectsJson();
fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify(rows));
