// An independent reader of a WikiStream warehouse, used as a test oracle.
// It follows only the Iceberg spec path a path-based engine would take:
//   <table>/metadata/version-hint.text -> vN.metadata.json -> current snapshot's
//   manifest list (Avro, read with avsc) -> manifests -> live data files
//   -> DuckDB read_parquet over exactly those files.
// Usage: node warehouse_reader.mjs WAREHOUSE NS.TABLE [ORDER BY columns]
// Prints one JSON object: {"snapshot_id", "files", "rows": [...]} (timestamps as
// ISO strings, bigints as numbers) so tests compare it with what we wrote.
import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { DuckDBInstance } from '@duckdb/node-api';

function readAvro(file) {
  return new Promise((resolve, reject) => {
    const rows = [];
    avro.createFileDecoder(file)
      .on('metadata', (type) => { rows.schema = type; })
      .on('data', (r) => rows.push(r))
      .on('end', () => resolve(rows))
      .on('error', reject);
  });
}

const localPath = (p) => (p.startsWith('file://') ? p.slice('file://'.length) : p);

async function liveFiles(warehouse, qualified) {
  const [ns, table] = qualified.split('.');
  const metaDir = path.join(warehouse, ns, table, 'metadata');
  const hint = fs.readFileSync(path.join(metaDir, 'version-hint.text'), 'utf8').trim();
  const candidates = fs.readdirSync(metaDir).filter((f) => f.endsWith('.metadata.json') &&
      (f === `v${hint}.metadata.json` || f.startsWith(`${hint}-`) || f.startsWith(`v${hint}-`) ||
       f.startsWith(`${hint.padStart(5, '0')}-`)));
  if (candidates.length !== 1) throw new Error(`version-hint ${hint} matches ${candidates.length} metadata files`);
  const metadata = JSON.parse(fs.readFileSync(path.join(metaDir, candidates[0]), 'utf8'));
  if (metadata['format-version'] !== 2) throw new Error('not a format v2 table');
  const snapId = metadata['current-snapshot-id'];
  if (snapId === undefined || snapId === null || snapId === -1) return { snapshot: null, files: [] };
  const snap = metadata.snapshots.find((s) => s['snapshot-id'] === snapId);
  const manifests = await readAvro(localPath(snap['manifest-list']));
  const files = [];
  for (const m of manifests) {
    for (const e of await readAvro(localPath(m.manifest_path))) {
      if (e.status === 2) continue;  // DELETED entries are not part of the snapshot
      files.push(localPath(e.data_file.file_path));
    }
  }
  return { snapshot: snapId, files };
}

const [warehouse, qualified, orderBy] = process.argv.slice(2);
const { snapshot, files } = await liveFiles(warehouse, qualified);
let rows = [];
if (files.length > 0) {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(',');
  const order = orderBy ? ` ORDER BY ${orderBy}` : '';
  const reader = await con.runAndReadAll(`SELECT * FROM read_parquet([${list}])${order}`);
  rows = reader.getRowObjectsJson();
}
process.stdout.write(JSON.stringify({ snapshot_id: snapshot === null ? null : String(snapshot), files: files.length, rows }));
