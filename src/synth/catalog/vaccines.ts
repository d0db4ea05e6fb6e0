/**
 * China's national immunization programme (国家免疫规划) childhood schedule (2021 edition, ages in months), with CDC
 * CVX codes as the standard vaccine code — the national vaccine classification code table is not shipped; the
 * CVX mapping is approximate where no exact CVX exists (live JE, MPSV-A/AC) and is documented in docs/SYNTH.md.
 */
export interface Vaccine {
  key: string;
  cvx: string;
  name: string;
  /** Age in months of each dose. */
  doses: readonly number[];
  synonyms: readonly string[];
  site: string;
}

export const VACCINES: readonly Vaccine[] = [
  { key: 'hepb', cvx: '08', name: '乙肝疫苗', doses: [0, 1, 6], synonyms: ['乙肝疫苗', '重组乙型肝炎疫苗', 'HepB'], site: '上臂三角肌' },
  { key: 'bcg', cvx: '19', name: '卡介苗', doses: [0], synonyms: ['卡介苗', 'BCG'], site: '上臂三角肌' },
  { key: 'ipv', cvx: '10', name: '脊灰灭活疫苗', doses: [2, 3], synonyms: ['脊灰灭活疫苗', 'IPV'], site: '大腿前外侧' },
  { key: 'bopv', cvx: '178', name: '二价脊灰减毒活疫苗', doses: [4, 48], synonyms: ['脊灰减毒活疫苗', 'bOPV', '糖丸'], site: '口服' },
  { key: 'dtap', cvx: '20', name: '百白破疫苗', doses: [3, 4, 5, 18], synonyms: ['百白破疫苗', '吸附无细胞百白破联合疫苗', 'DTaP'], site: '上臂三角肌' },
  { key: 'dt', cvx: '28', name: '白破疫苗', doses: [72], synonyms: ['白破疫苗', 'DT'], site: '上臂三角肌' },
  { key: 'mmr', cvx: '03', name: '麻腮风疫苗', doses: [8, 18], synonyms: ['麻腮风疫苗', 'MMR', '麻腮风联合减毒活疫苗'], site: '上臂外侧' },
  { key: 'jel', cvx: '129', name: '乙脑减毒活疫苗', doses: [8, 24], synonyms: ['乙脑减毒活疫苗', '乙脑疫苗', 'JE-L'], site: '上臂外侧' },
  { key: 'mpsva', cvx: '32', name: 'A群流脑多糖疫苗', doses: [6, 9], synonyms: ['A群流脑疫苗', 'MPSV-A'], site: '上臂外侧' },
  { key: 'mpsvac', cvx: '32', name: 'A群C群流脑多糖疫苗', doses: [36, 72], synonyms: ['A+C流脑疫苗', 'MPSV-AC'], site: '上臂外侧' },
  { key: 'hepal', cvx: '85', name: '甲肝减毒活疫苗', doses: [18], synonyms: ['甲肝减毒活疫苗', '甲肝疫苗', 'HepA-L'], site: '上臂外侧' },
];

/** Procedures (ICD-9-CM-3, the basis of the national clinical edition of operation codes). */
export const PROCEDURES: Record<string, { code: string; name: string; synonyms: readonly string[] }> = {
  appendectomy: { code: '47.09', name: '阑尾切除术', synonyms: ['阑尾切除术', '阑尾切除'] },
  lapchole: { code: '51.23', name: '腹腔镜下胆囊切除术', synonyms: ['腹腔镜胆囊切除术', 'LC'] },
  phaco: { code: '13.41', name: '白内障超声乳化抽吸术', synonyms: ['白内障超声乳化术', 'Phaco'] },
  hemiarthroplasty: { code: '81.52', name: '髋关节部分置换术', synonyms: ['人工股骨头置换术', '半髋置换'] },
  vaginal: { code: '73.59', name: '手法助产', synonyms: ['顺产接生', '手法助产'] },
  cesarean: { code: '74.1', name: '子宫下段剖宫产术', synonyms: ['剖宫产术', '子宫下段剖宫产'] },
};
