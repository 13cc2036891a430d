// Independent check of an Iceberg table written by WikiStream.
//   node iceberg_check.mjs METADATA_JSON [duckdb]
// Reads the metadata file, then with avsc every manifest list of every
// snapshot and every manifest they list. Prints one JSON object:
//   {"snapshots": [{"id", "manifests", "live_files": [paths], "records"}],
//    "list_field_ids": {name: id}, "entry_field_ids": {name: id},
//    "data_file_field_ids": {name: id}, "map_key_ids": {name: [key-id, value-id]},
//    "manifest_meta": {...first manifest's metadata...}, "duckdb_rows": N,
//    "locations": [every location in the metadata, lists and manifests, as written]}
// With "duckdb", DuckDB's read_parquet counts the rows of the current
// snapshot's live files.
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

// Locations are URIs (file:///...); the rest of the string is the path, literally.
const localPath = (p) => (p.startsWith('file://') ? p.slice('file://'.length) : p);
const ids = (fields) => Object.fromEntries(fields.map((f) => [f.name, f['field-id']]));
const unwrap = (t) => (Array.isArray(t) ? t.find((x) => x !== 'null') : t);

const [metadataPath, mode] = process.argv.slice(2);
const metadata = JSON.parse(fs.readFileSync(metadataPath, 'utf8'));
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
}
process.stdout.write(JSON.stringify(out));
