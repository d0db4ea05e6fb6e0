import type { DemoUser } from '../../api/demo-routes.ts';
import type { CountyJson } from '../../synth/index.ts';
import type { DemoScenario } from './scenario.ts';

/**
 * The demo's sign-ins, one per role (fictitious people): clinicians at the county hospital (the scenario's
 * institution), at the TCM hospital and at a township health centre the shared patient visited; a platform operator,
 * a health-commission manager, a security auditor, and the shared patient as the resident.
 */
export function demoUsers(county: CountyJson, scenario: DemoScenario, residentPersonId: string | undefined): DemoUser[] {
  const byType = (type: string) => county.institutions.find((i) => i.type === type)?.code;
  const township = scenario.shared.institutions.find((c) => county.institutions.find((i) => i.code === c)?.type === 'township-health-centre') ?? byType('township-health-centre');
  const clinicianAt = [
    { name: '周志明', user: 'zhouzhiming', institution: scenario.clinicianInstitution },
    { name: '李雅琴', user: 'liyaqin', institution: byType('tcm-hospital') },
    { name: '陈建华', user: 'chenjianhua', institution: township },
  ];
  const users: DemoUser[] = clinicianAt
    .filter((c, i, all) => c.institution && all.findIndex((o) => o.institution === c.institution) === i)
    .map((c) => ({ role: 'clinician', name: c.name, user: c.user, institution: c.institution }));
  users.push(
    { role: 'operator', name: '吴海涛', user: 'wuhaitao' },
    { role: 'manager', name: '孙立新', user: 'sunlixin' },
    { role: 'auditor', name: '赵敏', user: 'zhaomin' },
  );
  if (residentPersonId) users.push({ role: 'resident', name: scenario.shared.name, user: residentPersonId, personId: residentPersonId });
  return users;
}
