import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateCounty } from '../synth/index.ts';
import type { MatchInput } from './features.ts';
import { readSynthPatients, streamSynthPatients } from './synth-feeds.ts';

describe('synthetic county feed readers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'empi-feeds-'));
  let whole: ReturnType<typeof readSynthPatients>;
  before(async () => {
    await generateCounty({ persons: 400, seed: 6, outDir: dir });
    whole = readSynthPatients(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function streamAll(chunkBytes?: number): Promise<{ inputs: MatchInput[]; merges: Array<[string, string]> }> {
    const merges: Array<[string, string]> = [];
    const inputs: MatchInput[] = [];
    for await (const x of streamSynthPatients(dir, { chunkBytes, merges })) inputs.push(x);
    return { inputs, merges };
  }

  it('the county exercises every feed layout the streaming reader must cut: GBK, CR, LF and CRLF HL7, CSV, NDJSON, A40', () => {
    const county = JSON.parse(readFileSync(join(dir, 'county.json'), 'utf8')) as {
      institutions: Array<{ format: string; encoding: string; hl7?: { segmentSeparator: string } }>;
    };
    const hl7 = county.institutions.filter((i) => i.format === 'hl7v2');
    assert.deepEqual(new Set(hl7.map((i) => i.hl7?.segmentSeparator)).size, 3);
    assert.ok(hl7.some((i) => i.encoding === 'gbk'));
    assert.ok(county.institutions.some((i) => i.format === 'csv' && i.encoding === 'gbk'));
    assert.ok(county.institutions.some((i) => i.format === 'fhir'));
    assert.ok(whole.inputs.length > 800, `${whole.inputs.length} Patients`);
    assert.ok(whole.merges.length > 0, 'an ADT^A40 merge (seed 6 has one)');
  });

  it('streams exactly the Patients and merges of the whole-file reader, in the same order', async () => {
    const s = await streamAll();
    assert.equal(s.inputs.length, whole.inputs.length);
    assert.deepEqual(s.inputs, whole.inputs);
    assert.deepEqual(s.merges, whole.merges);
  });

  it('gives the same output when every message, line, row and multi-byte character is cut across reads', async () => {
    const s = await streamAll(127);
    assert.deepEqual(s.inputs, whole.inputs);
    assert.deepEqual(s.merges, whole.merges);
  });
});
