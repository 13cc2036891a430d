// avsc as an independent Avro oracle.
//   node avro_check.mjs read FILE   -> prints {"schema": <writer schema JSON as stored>,
//                                      "metadata": {k: v}, "records": [...]} (longs as numbers,
//                                      bytes as hex strings)
//   node avro_check.mjs write FILE  -> writes a container file with avsc (deflate off) whose
//                                      records exercise every type; prints the records as JSON.
import fs from 'node:fs';
import avro from 'avsc';

const [mode, file] = process.argv.slice(2);

function plain(v) {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x);
    return o;
  }
  return v;
}

if (mode === 'read') {
  const records = [];
  let schema = null;
  const metadata = {};
  avro.createFileDecoder(file)
    .on('metadata', (type, codec, header) => {
      schema = JSON.parse(header.meta['avro.schema'].toString());
      for (const [k, v] of Object.entries(header.meta)) metadata[k] = v.toString();
    })
    .on('data', (r) => records.push(plain(r)))
    .on('end', () => {
      process.stdout.write(JSON.stringify({ schema, metadata, records }));
    })
    .on('error', (e) => { console.error(e.message); process.exit(1); });
} else if (mode === 'write') {
  const type = avro.Type.forSchema({
    type: 'record', name: 'sample', namespace: 'test',
    fields: [
      { name: 'b', type: 'boolean' },
      { name: 'i', type: 'int' },
      { name: 'l', type: 'long' },
      { name: 'f', type: 'float' },
      { name: 'd', type: 'double' },
      { name: 's', type: 'string' },
      { name: 'by', type: 'bytes' },
      { name: 'opt', type: ['null', 'long'], default: null },
      { name: 'arr', type: { type: 'array', items: 'int' } },
      { name: 'm', type: { type: 'map', values: 'string' } },
      { name: 'e', type: { type: 'enum', name: 'color', symbols: ['RED', 'GREEN'] } },
      { name: 'fx', type: { type: 'fixed', name: 'four', size: 4 } },
      { name: 'inner', type: { type: 'record', name: 'inner_t', fields: [{ name: 'x', type: 'string' }] } },
      { name: 'again', type: 'inner_t' },
    ],
  });
  // Small blocks so the file has several blocks and sync markers.
  const enc = new avro.streams.BlockEncoder(type, { codec: 'null', blockSize: 64 });
  const sink = fs.createWriteStream(file);
  enc.pipe(sink);
  const out = [];
  for (let n = 0; n < 50; n++) {
    const r = {
      b: n % 2 === 0, i: -n * 1000, l: n * 123456789012, f: 1.5, d: n / 3, s: `héllo ${n}`,
      by: Buffer.from([n, 255, 0]), opt: n % 3 === 0 ? null : n, arr: Array.from({ length: n % 4 }, (_, k) => k),
      m: n % 2 ? { a: `v${n}` } : {}, e: n % 2 ? 'GREEN' : 'RED', fx: Buffer.from([1, 2, 3, n]),
      inner: { x: `in${n}` }, again: { x: '' },
    };
    enc.write(r);
    out.push(plain(r));
  }
  enc.end();
  sink.on('finish', () => process.stdout.write(JSON.stringify(out)));
} else {
  console.error('usage: avro_check.mjs read|write FILE');
  process.exit(2);
}
