import type { Clock, Config } from '../config/index.ts';
import type { Db } from '../store/index.ts';
import type { FhirPort } from './deps.ts';

/**
 * Wires the FHIR module (src/fhir) into the port the HTTP layer calls.
 * TEMPORARY until src/fhir/index.ts exports its router: a server that only answers `metadata`.
 */
export async function createFhirPort(db: Db, config: Config, clock: Clock): Promise<FhirPort> {
  void db;
  void config;
  void clock;
  return {
    async handle() {
      return {
        outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported', details: { text: 'FHIR store not wired yet' } }] },
      };
    },
    capabilityStatement(baseUrl) {
      return {
        resourceType: 'CapabilityStatement',
        status: 'draft',
        date: new Date().toISOString(),
        kind: 'instance',
        fhirVersion: '4.0.1',
        format: ['json'],
        implementation: { description: 'HealthBrain', url: baseUrl },
      };
    },
    status: (o) => (o.id === 'unauthorized' ? 401 : o.id === 'forbidden' ? 403 : o.issue?.[0]?.code === 'exception' ? 500 : 400),
  };
}
