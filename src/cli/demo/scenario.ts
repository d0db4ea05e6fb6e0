import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse/sync';

/** A person of the synthetic county, as the demo and the end-to-end test name them (ground truth, not the EMPI). */
export interface DemoPerson {
  /** Ground-truth person id (truth/persons.ndjson), not the EMPI's. */
  truthId: string;
  name: string;
  residentId: string;
  /** Codes of the institutions that hold a record of this person. */
  institutions: string[];
}

/** Candidates for the demo's two patients, best first (ground truth only; the pipeline checks them against the EMPI). */
export interface ScenarioCandidates {
  clinicianInstitution: string;
  shared: Array<DemoPerson & { labCode: string; labPoints: number }>;
  unrelated: DemoPerson[];
}

/** Who to show in the demo: a patient seen at three or more institutions, one of them the clinician's, and one never seen there. */
export interface DemoScenario {
  /** The clinician's institution (code). */
  clinicianInstitution: string;
  /** Seen at the clinician's institution (a care relationship) and at least two others, with a lab series. */
  shared: DemoPerson & { labCode: string; labPoints: number };
  /** Never seen at the clinician's institution: opening them is refused without break-the-glass. */
  unrelated: DemoPerson;
}

interface Acc {
  insts: Set<string>;
  clean: boolean;
  lastAt: Map<string, string>;
  labs: Map<string, number>;
}

/**
 * Ranks the demo's candidate patients from the county's ground truth (truth/mrns.csv, records.ndjson,
 * persons.ndjson). Only persons whose every registration is free of injected errors qualify; shared candidates are
 * ranked adults first, then by institutions, then lab series length, then the most recent visit to the clinician's institution.
 * Deterministic for a given county. Which candidate the demo shows depends on what the EMPI linked (pipeline.ts).
 */
export async function rankScenario(countyDir: string, clinicianInstitution: string, limit = 200): Promise<ScenarioCandidates> {
  const truth = join(countyDir, 'truth');
  const acc = new Map<string, Acc>();
  const get = (p: string) => {
    let a = acc.get(p);
    if (!a) acc.set(p, (a = { insts: new Set(), clean: true, lastAt: new Map(), labs: new Map() }));
    return a;
  };
  for (const r of parse(readFileSync(join(truth, 'mrns.csv'), 'utf8'), { columns: true }) as Array<{ inst: string; person: string; errors: string }>) {
    const a = get(r.person);
    a.insts.add(r.inst);
    if (r.errors) a.clean = false;
  }
  const lines = createInterface({ input: createReadStream(join(truth, 'records.ndjson'), 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    const r = JSON.parse(line) as { inst: string; person: string; sentAt: string; errors?: string[]; malformed?: string; codes?: Array<{ kind: string; code: string; value?: unknown }> };
    const a = get(r.person);
    if (r.errors?.length || r.malformed) a.clean = false;
    if ((a.lastAt.get(r.inst) ?? '') < r.sentAt) a.lastAt.set(r.inst, r.sentAt);
    for (const c of r.codes ?? []) if (c.kind === 'lab' && typeof c.value === 'number') a.labs.set(c.code, (a.labs.get(c.code) ?? 0) + 1);
  }
  const persons = new Map<string, { name: string; residentId?: string; birthDate?: string }>();
  for (const line of readFileSync(join(truth, 'persons.ndjson'), 'utf8').split('\n')) {
    if (!line) continue;
    const p = JSON.parse(line) as { id: string; name: string; residentId?: string; birthDate?: string };
    persons.set(p.id, p);
  }
  const person = (id: string): DemoPerson => ({
    truthId: id,
    name: persons.get(id)!.name,
    residentId: persons.get(id)!.residentId!,
    institutions: [...acc.get(id)!.insts].sort(),
  });
  const eligible = [...acc.entries()].filter(([id, a]) => a.clean && /^\d{17}[\dX]$/.test(persons.get(id)?.residentId ?? ''));
  const bestLab = (a: Acc) => [...a.labs.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))[0];
  // The shared patient is also the demo's resident, who signs in as themself: an adult reads better than a toddler.
  const adultBorn = `${new Date().getFullYear() - 18}`;
  const adult = (id: string) => ((persons.get(id)?.birthDate ?? '9999') < adultBorn ? 1 : 0);
  const shared = eligible
    .filter(([, a]) => a.insts.has(clinicianInstitution) && a.insts.size >= 3 && (bestLab(a)?.[1] ?? 0) >= 3)
    .sort(([ia, a], [ib, b]) => adult(ib) - adult(ia)
      || Math.min(b.insts.size, 4) - Math.min(a.insts.size, 4)
      || Math.min(bestLab(b)[1], 8) - Math.min(bestLab(a)[1], 8)
      || (b.lastAt.get(clinicianInstitution) ?? '').localeCompare(a.lastAt.get(clinicianInstitution) ?? '')
      || ia.localeCompare(ib))
    .slice(0, limit)
    .map(([id, a]) => {
      const [labCode, labPoints] = bestLab(a);
      return { ...person(id), labCode, labPoints };
    });
  const unrelated = eligible
    .filter(([, a]) => !a.insts.has(clinicianInstitution) && a.insts.size >= 2)
    .sort(([ia, a], [ib, b]) => b.insts.size - a.insts.size || ia.localeCompare(ib))
    .slice(0, limit)
    .map(([id]) => person(id));
  return { clinicianInstitution, shared, unrelated };
}
