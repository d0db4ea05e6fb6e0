import { createHash } from 'node:crypto';
import type { Meta, Organization, Reference } from '@medplum/fhirtypes';

/**
 * Resource ids are derived from the source's own keys (institution + MRN, + visit id, + record id), so a resent or
 * corrected record updates the same resource (update-as-create), and records of one unit can reference each other
 * and the Patient of an earlier unit without a lookup. 32 hex characters: a valid FHIR id, collision-free in practice.
 */
export function stableId(resourceType: string, institutionId: string, ...parts: string[]): string {
  return createHash('sha256').update([resourceType, institutionId, ...parts].join('\u0001')).digest('hex').slice(0, 32);
}

/** The identifier system of an institution's local patient ids (病案号/门诊号/档案号). */
export function mrnSystem(institutionId: string): string {
  return `https://healthbrain.cn/fhir/sid/mrn/${encodeURIComponent(institutionId)}`;
}

/** The id of the institution's Organization resource (registered by the platform, one per institution). */
export function organizationId(institutionId: string): string {
  return institutionId.replace(/[^A-Za-z0-9\-.]/g, '-').slice(0, 64);
}

export function organizationRef(institutionId: string): Reference<Organization> {
  return { reference: `Organization/${organizationId(institutionId)}` };
}

/** FHIR R4 Meta.source: the lineage of every standardized resource to its landed unit. */
export function lineage(unitId: number): Meta {
  return { source: `urn:healthbrain:landing:${unitId}` };
}

/** HealthBrain extension and tag URLs. */
export const EXT = {
  originalQuantity: 'https://healthbrain.cn/fhir/StructureDefinition/original-quantity',
  unverified: 'https://healthbrain.cn/fhir/StructureDefinition/identifier-unverified',
  divisionCode: 'https://healthbrain.cn/fhir/StructureDefinition/division-code',
  dataQuality: 'https://healthbrain.cn/fhir/CodeSystem/data-quality',
  recordKind: 'https://healthbrain.cn/fhir/CodeSystem/record-kind',
  /** meta.tag code = the submitting institution's id. */
  institution: 'https://healthbrain.cn/fhir/CodeSystem/institution',
} as const;
