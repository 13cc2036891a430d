// DuckDB as an independent reader of a Parquet file WikiStream wrote.
// Usage: node parquet_duckdb_read.mjs FILE
// Prints one JSON object:
//   rows: every row in file order; bigints and timestamps (as epoch micros)
//         as decimal strings, blobs as lowercase hex, so nothing loses precision
//   field_ids: {column: field_id} from parquet_schema()
//   chunks: [{column, compression, min, max, null_count}] from parquet_metadata()
import { DuckDBInstance } from '@duckdb/node-api';

const file = process.argv[2];
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const ident = (s) => `"${s.replace(/"/g, '""')}"`;
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const src = `read_parquet(${q(file)})`;
const cols = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJson();
const exprs = cols.map(({ column_name: name, column_type: type }) => {
  const c = ident(name);
  if (type.startsWith('TIMESTAMP')) return `epoch_us(${c})::VARCHAR AS ${c}`;
  if (type === 'BLOB') return `lower(hex(${c})) AS ${c}`;
  if (type === 'BIGINT') return `${c}::VARCHAR AS ${c}`;
  return c;
});
const rows = (await con.runAndReadAll(`SELECT ${exprs.join(', ')} FROM ${src}`)).getRowObjectsJson();
const schema = (await con.runAndReadAll(`SELECT name, field_id FROM parquet_schema(${q(file)})`)).getRowObjectsJson();
const field_ids = {};
for (const s of schema.slice(1)) field_ids[s.name] = s.field_id === null ? null : Number(s.field_id);
const chunks = (await con.runAndReadAll(
  `SELECT path_in_schema AS column, compression, stats_min_value AS min, stats_max_value AS max,
          stats_null_count::VARCHAR AS null_count, encodings
   FROM parquet_metadata(${q(file)}) ORDER BY row_group_id, column_id`)).getRowObjectsJson();
process.stdout.write(JSON.stringify({ types: cols.map((c) => c.column_type), rows, field_ids, chunks }));
