import { dirname, join } from 'node:path';
import type { DemoInfo } from './pipeline.ts';

const ROLE_LABEL: Record<string, string> = {
  clinician: '临床医生 clinician',
  operator: '平台运维 operator',
  manager: '卫健委管理 manager',
  auditor: '安全审计 auditor',
  resident: '居民 resident',
  researcher: '科研 researcher',
};

/** The demo's closing screen on stdout: where to go, who to sign in as, and what to try. */
export function printDemo(info: DemoInfo, seconds: number): void {
  const { scenario: s, persons } = info;
  const name = (code: string) => `${info.institutions[code] ?? code} (${code})`;
  const out = (line = '') => process.stdout.write(line + '\n');
  out();
  out(`HealthBrain demo ready in ${Math.round(seconds)} s — open ${info.url}/`);
  out();
  out('Demo sign-ins (choose the role on the sign-in page; clinicians also choose their institution):');
  for (const u of info.users) {
    const where = u.institution ? ` @ ${name(u.institution)}` : u.personId ? ` (person ${u.personId})` : '';
    out(`  ${(ROLE_LABEL[u.role] ?? u.role).padEnd(22)} ${u.name}${where}`);
  }
  out();
  out(`Try, as the clinician at ${name(s.clinicianInstitution)}:`);
  out(`  search ${s.shared.residentId} (${s.shared.name}) — records at ${s.shared.institutions.length} institutions, linked by the EMPI as ${persons.shared}`);
  out(`  search ${s.unrelated.residentId} (${s.unrelated.name}) — never seen there: refused, then break-the-glass`);
  out('  then sign in as the auditor to see every read, the refusal and the break-the-glass flagged.');
  out();
  const data = dirname(info.countyDir);
  out(`FHIR API ${info.url}/fhir · admin credential ${join(data, 'admin.json')} · details ${join(data, 'demo.json')}`);
  out('Serving until Ctrl-C.');
}
