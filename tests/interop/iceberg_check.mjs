// Independent check of an Iceberg table written by WikiStream.
//   node iceberg_check.mjs METADATA_JSON [duckdb] [--map URI_PREFIX=DIR]...
// Reads the metadata file, then with avsc every manifest list of every
// snapshot and every manifest they list. Prints one JSON object:
//   {"snapshots": [{"id", "manifests", "live_files": [paths], "records"}],
//    "list_field_ids": {name: id}, "entry_field_ids": {name: id},
//    "data_file_field_ids": {name: id}, "map_key_ids": {name: [key-id, value-id]},
//    "manifest_meta": {...first manifest's metadata...}, "duckdb_rows": N,
//    "locations": [every location in the metadata, lists and manifests, as written],
//    "current_records": N (with duckdb: the current snapshot's live records)}
// With "duckdb", DuckDB's read_parquet counts the rows of the current
// snapshot's live files. Each --map reads locations under URI_PREFIX (say
// s3://lake/wh, synced to DIR by `aws s3 sync`) from DIR instead, so a table
// in a bucket is walked through its s3:// URIs alone; METADATA_JSON may be
// such a URI too.
import fs from 'node:fs';
import avro from 'avsc';
import { DuckDBInstance } from '@duckdb/node-api';

function readAvro(file) {
  return new Promise((resolve, reject) => {
    const rows = [];
    let schema = null;
    let meta = {};
    avro.createFileDecoder(file)
      .on('metadata', (type, codec, header) => {
        schema = JSON.parse(header.meta['avro.schema'].toString());
        for (const [k, v] of Object.entries(header.meta)) meta[k] = v.toString();
      })
      .on('data', (r) => rows.push(r))
      .on('end', () => resolve({ rows, schema, meta }))
      .on('error', reject);
  });
}

const args = process.argv.slice(2);
const maps = [];
for (let i = args.indexOf('--map'); i >= 0; i = args.indexOf('--map')) {
  const [prefix, dir] = args.splice(i, 2)[1].split(/=(.*)/s);
  maps.push([prefix.replace(/\/+$/, ''), dir]);
}
// Locations are URIs (file:///..., or a mapped prefix); the rest of the string is the path, literally.
const localPath = (p) => {
  for (const [prefix, dir] of maps) if (p.startsWith(`${prefix}/`)) return dir + p.slice(prefix.length);
  if (p.includes('://') && !p.startsWith('file://')) throw new Error(`no --map for ${p}`);
  return p.startsWith('file://') ? p.slice('file://'.length) : p;
};
const ids = (fields) => Object.fromEntries(fields.map((f) => [f.name, f['field-id']]));
const unwrap = (t) => (Array.isArray(t) ? t.find((x) => x !== 'null') : t);

const [metadataPath, mode] = args;
const metadata = JSON.parse(fs.readFileSync(localPath(metadataPath), 'utf8'));
const out = { snapshots: [], locations: [metadata.location] };
for (const m of metadata['metadata-log']) out.locations.push(m['metadata-file']);
for (const snap of metadata.snapshots) {
  out.locations.push(snap['manifest-list']);
  const list = await readAvro(localPath(snap['manifest-list']));
  out.list_field_ids = ids(list.schema.fields);
  out.list_meta = list.meta;
  const live = [];
  let records = 0;
  for (const m of list.rows) {
    out.locations.push(m.manifest_path);
    const man = await readAvro(localPath(m.manifest_path));
    out.entry_field_ids = ids(man.schema.fields);
    const df = man.schema.fields.find((f) => f.name === 'data_file').type;
    out.data_file_field_ids = ids(df.fields);
    out.partition_field_ids = ids(df.fields.find((f) => f.name === 'partition').type.fields);
    out.map_key_ids = {};
    for (const f of df.fields) {
      const t = unwrap(f.type);
      if (t && t.type === 'array' && t.logicalType === 'map') {
        out.map_key_ids[f.name] = [t.items.fields[0]['field-id'], t.items.fields[1]['field-id']];
      }
      if (t && t.type === 'array' && t['element-id'] !== undefined) out[`${f.name}_element_id`] = t['element-id'];
    }
    out.manifest_meta = man.meta;
    for (const e of man.rows) {
      if (e.status === 2) continue;
      out.locations.push(e.data_file.file_path);
      live.push(e.data_file.file_path);
      records += e.data_file.record_count;
    }
  }
  out.snapshots.push({ id: snap['snapshot-id'], manifests: list.rows.length, live_files: live.sort(), records });
}
if (mode === 'duckdb') {
  const current = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id']);
  const files = out.snapshots.find((s) => s.id === current['snapshot-id']).live_files;
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const list = files.map((f) => `'${localPath(f).replaceAll("'", "''")}'`).join(',');
  const reader = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet([${list}])`);
  out.duckdb_rows = Number(reader.getRowObjects()[0].n);
  out.current_records = out.snapshots.find((s) => s.id === current['snapshot-id']).records;
}
process.stdout.write(JSON.stringify(out));
