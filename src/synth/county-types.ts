/**
 * The shape of `DIR/county.json`: the county, its divisions (GB/T 2260 county code + 统计用区划代码 for townships and
 * villages), its institutions with their vendor profiles (format, channel, encoding, HL7 sender ids, CSV dialect) and
 * the simulated period. The ingestion/replay module registers every institution from this file; nothing in it is
 * ground truth that the platform should not know (local code maps live under `DIR/truth/`).
 */

export interface CountyJson {
  /** Format version of this file; bumped only on incompatible change. */
  version: 1;
  generator: { name: 'healthbrain-synth'; seed: number; persons: number };
  county: Division & { provinceCode: string; provinceName: string; cityCode: string; cityName: string };
  /** Townships (乡镇/街道, 9-digit codes) with their villages/communities (村/社区, 12-digit codes). */
  divisions: Township[];
  institutions: Institution[];
  /** Simulated period; `today` is the fixed "now" of the generated world (ISO dates, local time +08:00). */
  period: { start: string; end: string; today: string };
}

export interface Division {
  code: string;
  name: string;
}

export interface Township extends Division {
  kind: 'town' | 'township' | 'subdistrict';
  villages: Village[];
}

export interface Village extends Division {
  kind: 'village' | 'community';
}

export type InstitutionType =
  | 'county-hospital' // 县人民医院
  | 'tcm-hospital' // 县中医院
  | 'mch-hospital' // 县妇幼保健院
  | 'township-health-centre' // 乡镇卫生院 / 社区卫生服务中心
  | 'village-clinic' // 村卫生室
  | 'private-clinic' // 民营诊所
  | 'public-health'; // 基本公共卫生服务系统

export type FeedFormat = 'fhir' | 'hl7v2' | 'csv';
export type FeedChannel = 'fhir-rest' | 'mllp' | 'sftp-batch';

export interface Institution {
  /** Institution code (机构代码); also the folder name under DIR/feeds/. */
  code: string;
  name: string;
  type: InstitutionType;
  /** Hospital level (医院等级) e.g. '二级甲等'; '' for primary care. */
  level: string;
  /** Township the institution sits in (9-digit code). */
  townshipCode: string;
  /** Vendor of its information system (fictional names). */
  vendor: string;
  format: FeedFormat;
  channel: FeedChannel;
  /** Text encoding of everything in its feed folder. */
  encoding: 'utf-8' | 'gbk';
  /** The URI the institution uses for its MRNs (FHIR Patient.identifier.system / HL7 PID-3.4 namespace). */
  mrnSystem: string;
  hl7?: Hl7Profile;
  csv?: CsvDialect;
  fhir?: { /** Base of the local code systems it uses (CodeSystem URIs are `${codeSystemBase}/<kind>`). */ codeSystemBase: string };
  /** Units it reports glucose and creatinine in. */
  units: { glucose: 'mmol/L' | 'mg/dL'; creatinine: 'umol/L' | 'mg/dL' };
  /** Files: every file this institution's feed holds is listed in truth/counts.json with its record count. */
  feedDir: string;
}

export interface Hl7Profile {
  /** MSH-3 sending application. */
  sendingApplication: string;
  /** MSH-4 sending facility. */
  sendingFacility: string;
  /** MSH-12 version id, e.g. '2.4'. */
  version: '2.3.1' | '2.4' | '2.5' | '2.5.1';
  /** Segment separator the vendor uses (HL7 says CR; some vendors send LF or CRLF). */
  segmentSeparator: 'CR' | 'LF' | 'CRLF';
  /** Files hold MLLP frames (VT … FS CR) exactly as the sender would write them to the socket. */
  mllpFramed: true;
  /** Vendor Z-segments it appends (e.g. ZPI), empty when none. */
  zSegments: string[];
  /** Local code system name used in OBX-3.3 / DG1-3.3. */
  localCodingSystem: string;
}

export interface CsvDialect {
  delimiter: ',' | '\t' | '|';
  /** Header language: 'zh' (CORE_TABLES header), 'en' (column keys). */
  headerLanguage: 'zh' | 'en';
  /** Date format pattern: 'yyyy-MM-dd' | 'yyyyMMdd' | 'yyyy/M/d'; datetimes append ' HH:mm:ss' (yyyyMMdd → 'yyyyMMddHHmmss'). */
  dateFormat: 'yyyy-MM-dd' | 'yyyyMMdd' | 'yyyy/M/d';
  bom: boolean;
  lineEnding: 'LF' | 'CRLF';
  /** Per table key: the column keys in file order (a permutation, possibly omitting optional columns). */
  columnOrder: Record<string, string[]>;
}

/** What `generateCounty` returns and prints: what was written, and how long it took. */
export interface SynthSummary {
  outDir: string;
  seed: number;
  persons: number;
  households: number;
  institutions: number;
  /** Source records written, summed over all feeds (HL7 messages, Bundle entries, CSV rows), duplicates included. */
  records: number;
  duplicates: number;
  malformed: number;
  files: number;
  bytes: number;
  elapsedMs: number;
}
