// Helpers for the standardization tests: landed units built the way the channels build them.
import { OperationOutcomeError } from '@medplum/core';
import { validateIncoming } from '../fhir/index.ts';
import type { Resource } from '@medplum/fhirtypes';
import { coreTable } from '../standards/core-tables.ts';
import type { Channel, LandedUnit, UnitInput } from '../ingest/index.ts';

let nextId = 1_000_000;

/** A core-table CSV row as ingest lands it: the header line + the row, UTF-8, meta.table. */
export function csvInput(institutionId: string, table: string, values: Record<string, string>): UnitInput {
  const t = coreTable(table)!;
  const cols = t.columns.filter((c) => values[c.key] !== undefined);
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const text = `${cols.map((c) => c.header).join(',')}\n${cols.map((c) => q(values[c.key])).join(',')}`;
  return { institutionId, channel: 'csv', contentType: 'text/csv', encoding: 'utf-8', content: Buffer.from(text, 'utf8'), meta: { table, delimiter: ',' } };
}

export function hl7Input(institutionId: string, segments: string[]): UnitInput {
  return { institutionId, channel: 'hl7-mllp', contentType: 'x-application/hl7-v2+er7', encoding: 'utf-8', content: Buffer.from(segments.join('\r'), 'utf8'), meta: {} };
}

export function fhirInput(institutionId: string, body: unknown): UnitInput {
  return { institutionId, channel: 'fhir', contentType: 'application/fhir+json', encoding: 'utf-8', content: Buffer.from(JSON.stringify(body), 'utf8'), meta: {} };
}

/** The unit as the worker hands it over, without going through the landing store. */
export function asLanded(input: UnitInput, id = nextId++): LandedUnit {
  return {
    id, institutionId: input.institutionId, channel: input.channel as Channel, contentType: input.contentType, encoding: input.encoding,
    receivedAt: new Date(), contentHash: String(id), content: Buffer.from(input.content), meta: input.meta ?? {}, status: 'landed', attempts: 0,
  };
}

/** FHIR R4 validation errors of a produced resource (empty = valid): @medplum/core validateResource + required bindings. */
export function r4Errors(r: Resource): string[] {
  try {
    validateIncoming(r);
    return [];
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    return (err.outcome.issue ?? []).map((i) => `${i.expression?.join(',')}: ${i.details?.text ?? i.diagnostics}`);
  }
}
