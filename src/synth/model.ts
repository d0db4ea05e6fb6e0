/** The generator's internal model of persons and the care events that institutions later render into feeds. */

export type Sex = '1' | '2';

export interface Person {
  /** Global person id, e.g. P0001234 — the truth's person key. */
  id: string;
  idx: number;
  householdId: string;
  surname: string;
  given: string;
  name: string;
  sex: Sex;
  birth: number;
  /** 18-digit GB 11643 number, '' for foreigners. */
  residentId: string;
  foreign?: { family: string; given: string; nationality: string; passport: string };
  phone: string;
  /** A number the person used before (given by mistake as a "stale phone"). */
  oldPhone: string;
  townshipIdx: number;
  villageIdx: number;
  villageCode: string;
  address: string;
  death?: number;
  bornInPeriod: boolean;
  motherId?: string;
  /** Working-age adult who works away (外出务工) and is seldom seen by local care. */
  migrant: boolean;
  conditions: Map<string, { diagnosed: boolean; onset: number }>;
  /** Chronic control propensity 0..1 (higher = better controlled). */
  control: number;
}

export interface Household {
  id: string;
  members: Person[];
}

export interface LabResult {
  item: string;
  /** Value in the standard unit; string for qualitative results. */
  value: number | string;
}

export interface LabOrder {
  panel: string;
  day: number;
  minute: number;
  results: LabResult[];
  /** Set when this panel repeats one done at another institution within days (mutual recognition). */
  repeatOf?: string;
}

export interface VisitEvent {
  kind: 'visit';
  inst: number;
  cls: 'AMB' | 'EMER' | 'IMP';
  day: number;
  minute: number;
  endDay?: number;
  dept: string;
  dx: string[];
  labs: LabOrder[];
  exams: { exam: string; variant: string; day: number }[];
  rx: string[];
  procs: string[];
  /** Emergency patient registered as 无名氏. */
  unknownPatient?: boolean;
  /** ILI visit injected by the outbreak (excess over the seasonal baseline). */
  outbreak?: boolean;
  /** Antenatal visit data (MCH). */
  anc?: { weeks: number; sbp: number; dbp: number; weight: number };
  /** Delivery stay: the baby born in it. */
  babyId?: string;
}

export interface FollowupEvent {
  kind: 'followup';
  day: number;
  disease: 'hypertension' | 'diabetes';
  sbp: number;
  dbp: number;
  fpg: number;
  weight: number;
  hr: number;
  controlled: boolean;
  method: '1' | '2' | '3';
}

export interface CheckupEvent {
  kind: 'checkup';
  day: number;
  height: number;
  weight: number;
  sbp: number;
  dbp: number;
  fpg: number;
  chol: number;
  crea: number;
}

export interface ImmunizationEvent {
  kind: 'imm';
  day: number;
  vaccine: string;
  dose: number;
  lot: string;
}

export interface AntenatalEvent {
  kind: 'anc';
  day: number;
  weeks: number;
  sbp: number;
  dbp: number;
  weight: number;
  hgb: number;
  edd: number;
}

export interface ArchiveEvent {
  kind: 'archive';
  day: number;
  contractDay?: number;
}

export type PublicHealthEvent = FollowupEvent | CheckupEvent | ImmunizationEvent | AntenatalEvent | ArchiveEvent;
export type CareEvent = VisitEvent | PublicHealthEvent;
