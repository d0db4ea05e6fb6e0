/**
 * `npm run bench -- ingest fairness [--mb M] [--senders S] [--rounds R]`: time-to-acknowledge of a large HL7 upload
 * (`POST /ingest/hl7`, M MB, default 10) over real HTTP while S other institutions (default 4) keep uploading smaller
 * HL7 and CSV files, and the worker standardizes what lands. Prints the p50/p99 time from the request's first byte to
 * its answer, for the large upload (R rounds, fresh content each) and for the other senders' uploads meanwhile: no
 * upload starves behind another or behind the worker (docs/INGEST.md, "Concurrent senders").
 */
import { loadavg } from 'node:os';
import pino from 'pino';
import type { Db } from '../src/store/index.ts';

const hl7 = (tag: string, i: number) =>
  `MSH|^~\\&|LIS-${tag.slice(0, 4)}|F-${tag.slice(0, 4)}|HB|REGION|20250301080000||ORU^R01^ORU_R01|${tag}-${i}|P|2.5.1\r` +
  `PID|1||${tag}-P${i % 2000}^^^F^MR||王^小明||19800101|M\rOBR|1||${tag}-L${i}|GLU\rOBX|1|NM|GLU^葡萄糖^L||${(i % 90) / 10 + 3}|mmol/L\r`;

function hl7File(tag: string, bytes: number): Buffer {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const m = hl7(tag, i) + '\n';
    parts.push(m);
    size += Buffer.byteLength(m);
  }
  return Buffer.from(parts.join(''));
}

function csvFile(org: string, tag: string, rows: number): string {
  const lines = Array.from({ length: rows }, (_, i) => `${org},${tag}-${i},${tag}-M${i % 2000},患者${i},${1 + (i % 2)},1980-01-01,2025-03-01 08:00:00`);
  return 'org_code,record_id,patient_local_id,name,sex_code,birth_date,updated_at\n' + lines.join('\n') + '\n';
}

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
};

export async function benchUploadFairness(db: Db, mb: number, senders: number, rounds: number): Promise<void> {
  const { openTestPlatform } = await import('../src/api/testing.ts');
  const { ingestFor } = await import('../src/api/ingest-runtime.ts');
  const p = await openTestPlatform({ db, logger: pino({ level: process.env.BENCH_LOG ?? 'silent' }) });
  try {
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(p.app.server.address() as { port: number }).port}`;
    await ingestFor(p.deps).drain(); // the standardizer's services loaded before timing starts
    const big = await p.addInstitution('bench-fair-big');
    const others = await Promise.all(Array.from({ length: senders }, (_, s) => p.addInstitution(`bench-fair-${s}`)));
    const post = async (token: string, path: string, type: string, body: Buffer | string): Promise<number> => {
      const t0 = performance.now();
      const res = await fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text.slice(0, 300)}`);
      return (performance.now() - t0) / 1000;
    };
    let running = true;
    const small: number[] = [];
    let n = 0;
    // Half the other senders upload HL7 files of ~256 kB, half CSV files of 2,500 rows (~230 kB), back to back.
    const failed: string[] = [];
    const background = others.map(async (inst, s) => {
      while (running) {
        const tag = `B${s}-${n++}`;
        try {
          small.push(s % 2 === 0
            ? await post(inst.token, '/ingest/hl7', 'x-application/hl7-v2+er7', hl7File(tag, 256 * 1024))
            : await post(inst.token, `/ingest/csv?table=patient&file=${tag}.csv`, 'text/csv', csvFile(inst.code, tag, 2500)));
        } catch (err) {
          failed.push((err as Error).message); // a refusal is a figure too (503 + Retry-After), not the end of the run
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    });
    const large: number[] = [];
    try {
      await new Promise((r) => setTimeout(r, 2000)); // the other senders under way first
      for (let r = 0; r < rounds; r++) {
        const body = hl7File(`BIG${r}`, mb * 1024 * 1024);
        const from = small.length;
        large.push(await post(big.token, '/ingest/hl7', 'x-application/hl7-v2+er7', body));
        const meanwhile = small.slice(from);
        console.log(`  round ${r + 1}: ${(body.length / 1048576).toFixed(1)} MB acknowledged in ${large[r].toFixed(1)} s; meanwhile ${meanwhile.length} other uploads, ` +
          `p50 ${pct(meanwhile, 0.5).toFixed(2)} s, p99 ${pct(meanwhile, 0.99).toFixed(2)} s (load average ${loadavg()[0].toFixed(1)})`);
      }
    } finally {
      running = false;
      await Promise.all(background);
    }
    console.log(
      `upload fairness: ${mb} MB HL7 upload while ${senders} other senders upload — time to acknowledge p50 ${pct(large, 0.5).toFixed(1)} s, ` +
        `p99 ${pct(large, 0.99).toFixed(1)} s (${rounds} rounds); the other senders' ${small.length} uploads p50 ${pct(small, 0.5).toFixed(2)} s, ` +
        `p99 ${pct(small, 0.99).toFixed(2)} s, ${failed.length} refused${failed.length ? ` (first: ${failed[0]})` : ''}`,
    );
  } finally {
    await p.close();
  }
}
