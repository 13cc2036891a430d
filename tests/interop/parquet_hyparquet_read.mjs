// hyparquet (pure JavaScript, + hyparquet-compressors for zstd) as a second
// independent reader. Usage: node parquet_hyparquet_read.mjs FILE
// Prints {"rows": [...]}: int64 and timestamps (epoch micros) as decimal
// strings, binary as lowercase hex.
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

const file = await asyncBufferFromFile(process.argv[2]);
const rows = await parquetReadObjects({
  file,
  compressors,
  utf8: false,
  parsers: { timestampFromMicroseconds: (v) => String(v) },
});
const norm = (v) => {
  if (typeof v === 'bigint') return String(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return v === undefined ? null : v;
};
const out = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, norm(v)])));
process.stdout.write(JSON.stringify({ rows: out }));
