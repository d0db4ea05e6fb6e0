/**
 * Conditions with their standard codes. Convention: the standard diagnosis code is ICD-10 at category or
 * subcategory level as used by the national clinical edition (ICD-10 国家临床版 2.0, GB/T 14396 structure), e.g.
 * I10, E11.9; names are the clinical-edition Chinese names. Clinical-edition 6-character extensions (I10.x00 …)
 * appear only as LOCAL codes of some hospitals and map to the 3/4-character code in the truth.
 *
 * Chronic prevalence (share of residents who have the condition, diagnosed or not) by age band and sex, with the
 * share diagnosed (awareness). Sources are cited in docs/SYNTH.md ("Chronic disease model").
 */
export interface ChronicCondition {
  key: string;
  icd10: string;
  name: string;
  /** Lower bounds of the age bands the prevalence arrays use. */
  bands: readonly number[];
  male: readonly number[];
  female: readonly number[];
  /** Share of cases that are diagnosed (and so appear in records). */
  awareness: number;
  /** Local name variants: synonyms and typos clerks write. */
  synonyms: readonly string[];
}

export const CHRONIC: readonly ChronicCondition[] = [
  {
    // China Hypertension Survey 2012–2015 (Wang Z et al., Circulation 2018): 23.2% of adults, awareness 46.9%.
    key: 'hypertension', icd10: 'I10', name: '原发性高血压',
    bands: [0, 18, 25, 35, 45, 55, 65, 75],
    male: [0, 0.05, 0.08, 0.18, 0.32, 0.45, 0.55, 0.59],
    female: [0, 0.02, 0.04, 0.11, 0.27, 0.44, 0.56, 0.62],
    awareness: 0.52,
    synonyms: ['高血压', '高血压病', '原发性高血压', '高血压Ⅱ级', '高血压病（2级）', '高血丫'],
  },
  {
    // Li Y et al., BMJ 2020 (ADA criteria, 2015–2017): 12.8% of adults, awareness 43.3%.
    key: 'diabetes', icd10: 'E11.9', name: '2型糖尿病',
    bands: [0, 18, 30, 40, 50, 60, 70],
    male: [0, 0.055, 0.075, 0.12, 0.18, 0.24, 0.26],
    female: [0, 0.04, 0.05, 0.09, 0.16, 0.24, 0.27],
    awareness: 0.45,
    synonyms: ['2型糖尿病', 'II型糖尿病', '糖尿病', '2型糖尿病不伴有并发症', '二型糖尿病', '2型糖尿丙'],
  },
  {
    // Chinese guideline for lipid management 2023 (CCDRFS 2015): dyslipidaemia 35.6% of adults; awareness ~30%.
    key: 'dyslipidaemia', icd10: 'E78.5', name: '高脂血症',
    bands: [0, 18, 35, 45, 55, 65],
    male: [0, 0.28, 0.38, 0.42, 0.42, 0.40],
    female: [0, 0.15, 0.24, 0.34, 0.44, 0.46],
    awareness: 0.3,
    synonyms: ['高脂血症', '血脂异常', '高血脂', '高脂血证'],
  },
  {
    // China Pulmonary Health study (Wang C et al., Lancet 2018): 8.6% of adults ≥20, 13.7% ≥40; low awareness.
    key: 'copd', icd10: 'J44.9', name: '慢性阻塞性肺疾病',
    bands: [0, 20, 40, 50, 60, 70],
    male: [0, 0.03, 0.08, 0.16, 0.29, 0.45],
    female: [0, 0.014, 0.03, 0.07, 0.13, 0.25],
    awareness: 0.3,
    synonyms: ['慢性阻塞性肺疾病', '慢阻肺', 'COPD', '慢性阻塞性肺病', '慢支'],
  },
  {
    // NESS-China 2013 (Wang W et al., Circulation 2017): stroke prevalence 1,115/100,000 adults, rising with age.
    key: 'stroke', icd10: 'I63.9', name: '脑梗死',
    bands: [0, 20, 40, 50, 60, 70, 80],
    male: [0, 0.0007, 0.006, 0.015, 0.03, 0.05, 0.06],
    female: [0, 0.0005, 0.004, 0.01, 0.022, 0.04, 0.05],
    awareness: 1,
    synonyms: ['脑梗死', '脑梗塞', '脑梗', '腔隙性脑梗死', '脑梗死后遗症'],
  },
  {
    // Zhang L et al., Lancet 2012: CKD in 10.8% of adults; awareness 12.5%.
    key: 'ckd', icd10: 'N18.9', name: '慢性肾脏病',
    bands: [0, 18, 40, 50, 60, 70],
    male: [0, 0.06, 0.09, 0.11, 0.16, 0.24],
    female: [0, 0.07, 0.1, 0.12, 0.17, 0.26],
    awareness: 0.15,
    synonyms: ['慢性肾脏病', '慢性肾病', '慢性肾功能不全', '慢性肾脏疾病'],
  },
  {
    // China cardiovascular health and disease report 2022: ~11.4 million CHD patients, concentrated over 60.
    key: 'chd', icd10: 'I25.1', name: '动脉粥样硬化性心脏病',
    bands: [0, 35, 45, 55, 65, 75],
    male: [0, 0.003, 0.01, 0.03, 0.06, 0.09],
    female: [0, 0.002, 0.006, 0.02, 0.05, 0.08],
    awareness: 0.8,
    synonyms: ['冠心病', '冠状动脉粥样硬化性心脏病', '动脉粥样硬化性心脏病', '冠心病心绞痛'],
  },
];

/** Prevalence of a condition at an age for a sex ('1' male, '2' female). */
export function prevalence(c: ChronicCondition, age: number, sex: '1' | '2'): number {
  const arr = sex === '1' ? c.male : c.female;
  let i = 0;
  while (i + 1 < c.bands.length && age >= c.bands[i + 1]) i++;
  return arr[i];
}

/** Acute and episodic diagnoses seen in outpatient and inpatient care. */
export interface AcuteCondition {
  key: string;
  icd10: string;
  name: string;
  synonyms: readonly string[];
}

export const ACUTE: Record<string, AcuteCondition> = Object.fromEntries(
  (
    [
      ['urti', 'J06.9', '急性上呼吸道感染', ['上呼吸道感染', '上感', '急性上呼吸道感染', '感冒']],
      ['influenza', 'J11.1', '流行性感冒', ['流行性感冒', '流感', '流感样病例', '甲型流感?']],
      ['bronchitis', 'J20.9', '急性支气管炎', ['急性支气管炎', '支气管炎', '急支']],
      ['pneumonia', 'J18.9', '肺炎', ['肺炎', '社区获得性肺炎', '肺部感染', '肺炎（右下）']],
      ['gastritis', 'K29.7', '胃炎', ['胃炎', '慢性胃炎', '浅表性胃炎', '胃脘痛']],
      ['gastroenteritis', 'K52.9', '胃肠炎', ['急性胃肠炎', '胃肠炎', '腹泻']],
      ['lowbackpain', 'M54.5', '腰痛', ['腰痛', '腰肌劳损', '腰疼']],
      ['kneeoa', 'M17.9', '膝关节病', ['膝关节骨性关节炎', '膝关节炎', '膝骨关节病']],
      ['headache', 'R51', '头痛', ['头痛', '头疼']],
      ['dermatitis', 'L30.9', '皮炎', ['皮炎', '湿疹样皮炎', '皮肤过敏']],
      ['uti', 'N39.0', '泌尿道感染', ['泌尿系感染', '尿路感染', '泌尿道感染']],
      ['conjunctivitis', 'H10.9', '结膜炎', ['结膜炎', '红眼病']],
      ['copd_exac', 'J44.1', '慢性阻塞性肺疾病伴有急性加重', ['慢阻肺急性加重', 'COPD急性加重期', '慢性阻塞性肺疾病急性加重']],
      ['angina', 'I20.9', '心绞痛', ['心绞痛', '不稳定型心绞痛', '劳力性心绞痛']],
      ['appendicitis', 'K35.8', '急性阑尾炎', ['急性阑尾炎', '阑尾炎']],
      ['gallstone', 'K80.2', '胆囊结石', ['胆囊结石', '胆结石', '胆石症']],
      ['hipfracture', 'S72.0', '股骨颈骨折', ['股骨颈骨折', '左股骨颈骨折', '右股骨颈骨折']],
      ['cataract', 'H25.9', '老年性白内障', ['老年性白内障', '白内障', '年龄相关性白内障']],
      ['pregnancy', 'Z34.9', '正常妊娠监督', ['早孕', '孕期检查', '正常妊娠监督', '妊娠状态']],
      ['delivery', 'O80.0', '头位顺产', ['单胎顺产', '顺产', '头位顺产']],
      ['cesarean', 'O82.9', '经剖宫产术的分娩', ['剖宫产', '剖宫产分娩', '经剖宫产术的分娩']],
      ['newborn', 'Z38.0', '单胎，在医院内出生', ['新生儿', '单胎活产', '足月新生儿']],
      ['checkup', 'Z00.0', '一般医学检查', ['健康查体', '体检', '一般医学检查']],
    ] as const
  ).map(([key, icd10, name, synonyms]) => [key, { key, icd10, name, synonyms }]),
);

/** Outpatient acute mix (weights) by broad age group. */
export const OUTPATIENT_MIX = {
  child: [['urti', 45], ['bronchitis', 15], ['gastroenteritis', 12], ['dermatitis', 8], ['pneumonia', 4], ['conjunctivitis', 4]],
  adult: [['urti', 25], ['gastritis', 14], ['lowbackpain', 12], ['gastroenteritis', 8], ['headache', 6], ['bronchitis', 6], ['dermatitis', 6], ['uti', 5], ['conjunctivitis', 3], ['kneeoa', 4]],
  elder: [['urti', 16], ['kneeoa', 14], ['gastritis', 10], ['bronchitis', 9], ['lowbackpain', 9], ['pneumonia', 4], ['headache', 4], ['uti', 4], ['cataract', 3]],
} as const;
