/**
 * Lab items (LOINC codes, UCUM standard units, Chinese names as printed on reports), panels (检验组合) and vital
 * signs. Values are drawn around typical adult values; reference ranges are those common on Chinese lab reports.
 * Glucose uses LOINC 2345-7 (Glucose [Mass/volume] in Serum or Plasma) as the platform's one glucose code even
 * though the standard unit is mmol/L — the pragmatic choice of most regional platforms; fasting glucose of
 * follow-ups and check-ups uses 1558-6. Both are documented in docs/SYNTH.md.
 */
export interface LabItem {
  key: string;
  loinc: string;
  name: string;
  /** UCUM standard unit. */
  unit: string;
  /** Unit as printed locally when it differs in spelling (e.g. 10^9/L), else same as unit. */
  printUnit: string;
  low: number;
  high: number;
  /** Mean and SD of the healthy value; conditions shift them (see health model). */
  mean: number;
  sd: number;
  decimals: number;
  /** Alternative unit some institutions report in, with the factor: alt = standard * factor. */
  alt?: { unit: string; factor: number; decimals: number };
  synonyms: readonly string[];
}

const l = (
  key: string, loinc: string, name: string, unit: string, printUnit: string, low: number, high: number,
  mean: number, sd: number, decimals: number, synonyms: string[], alt?: LabItem['alt'],
): LabItem => (alt ? { key, loinc, name, unit, printUnit, low, high, mean, sd, decimals, alt, synonyms } : { key, loinc, name, unit, printUnit, low, high, mean, sd, decimals, synonyms });

export const LAB_ITEMS: Record<string, LabItem> = Object.fromEntries(
  [
    l('wbc', '6690-2', '白细胞计数', '10*9/L', '10^9/L', 3.5, 9.5, 6.3, 1.6, 2, ['白细胞', 'WBC', '白细胞计数']),
    l('rbc', '789-8', '红细胞计数', '10*12/L', '10^12/L', 3.8, 5.8, 4.6, 0.45, 2, ['红细胞', 'RBC', '红细胞计数']),
    l('hgb', '718-7', '血红蛋白', 'g/L', 'g/L', 115, 175, 138, 14, 0, ['血红蛋白', 'HGB', 'Hb', '血红旦白']),
    l('plt', '777-3', '血小板计数', '10*9/L', '10^9/L', 125, 350, 220, 55, 0, ['血小板', 'PLT', '血小板计数']),
    l('neut', '770-8', '中性粒细胞百分比', '%', '%', 40, 75, 60, 8, 1, ['中性粒细胞%', 'NEUT%', '中性粒细胞百分比']),
    l('lymph', '736-9', '淋巴细胞百分比', '%', '%', 20, 50, 30, 7, 1, ['淋巴细胞%', 'LYMPH%', '淋巴细胞百分比']),
    l('glu', '2345-7', '葡萄糖', 'mmol/L', 'mmol/L', 3.9, 6.1, 5.1, 0.5, 2, ['血糖', '葡萄糖', 'GLU', '空腹血糖'], { unit: 'mg/dL', factor: 18.016, decimals: 0 }),
    l('hba1c', '4548-4', '糖化血红蛋白', '%', '%', 4.0, 6.0, 5.4, 0.35, 1, ['糖化血红蛋白', 'HbA1c', '糖化血红蛋白A1c']),
    l('chol', '2093-3', '总胆固醇', 'mmol/L', 'mmol/L', 2.8, 5.2, 4.7, 0.8, 2, ['总胆固醇', 'TC', 'CHOL']),
    l('tg', '2571-8', '甘油三酯', 'mmol/L', 'mmol/L', 0.45, 1.7, 1.4, 0.6, 2, ['甘油三酯', 'TG', '甘油三脂']),
    l('hdl', '2085-9', '高密度脂蛋白胆固醇', 'mmol/L', 'mmol/L', 1.04, 1.55, 1.3, 0.28, 2, ['高密度脂蛋白', 'HDL-C', '高密度脂蛋白胆固醇']),
    l('ldl', '13457-7', '低密度脂蛋白胆固醇', 'mmol/L', 'mmol/L', 0, 3.4, 2.8, 0.7, 2, ['低密度脂蛋白', 'LDL-C', '低密度脂蛋白胆固醇']),
    l('crea', '2160-0', '肌酐', 'umol/L', 'μmol/L', 57, 111, 75, 15, 0, ['肌酐', 'CREA', 'Cr', '血肌酐'], { unit: 'mg/dL', factor: 1 / 88.4, decimals: 2 }),
    l('urea', '22664-7', '尿素', 'mmol/L', 'mmol/L', 3.1, 8.0, 5.2, 1.2, 2, ['尿素', 'UREA', '尿素氮', 'BUN']),
    l('ua', '14933-6', '尿酸', 'umol/L', 'μmol/L', 208, 428, 330, 75, 0, ['尿酸', 'UA']),
    l('alt', '1742-6', '丙氨酸氨基转移酶', 'U/L', 'U/L', 9, 50, 24, 10, 0, ['丙氨酸氨基转移酶', 'ALT', '谷丙转氨酶']),
    l('ast', '1920-8', '天门冬氨酸氨基转移酶', 'U/L', 'U/L', 15, 40, 24, 7, 0, ['天门冬氨酸氨基转移酶', 'AST', '谷草转氨酶']),
    l('tbil', '1975-2', '总胆红素', 'umol/L', 'μmol/L', 0, 23, 12, 4, 1, ['总胆红素', 'TBIL']),
    l('alb', '1751-7', '白蛋白', 'g/L', 'g/L', 40, 55, 45, 3.5, 1, ['白蛋白', 'ALB', '血清白蛋白']),
  ].map((x) => [x.key, x]),
);

/** Qualitative rapid test for ILI visits (OBX-2 ST in HL7). */
export const FLU_A_AG = { key: 'fluA', loinc: '80382-5', name: '甲型流感病毒抗原', synonyms: ['甲流抗原', '甲型流感抗原检测', '流感A抗原'] } as const;

export interface LabPanel {
  key: string;
  name: string;
  /** LOINC panel code where one exists, else ''. */
  loinc: string;
  items: readonly string[];
}

export const LAB_PANELS: Record<string, LabPanel> = {
  cbc: { key: 'cbc', name: '血常规', loinc: '58410-2', items: ['wbc', 'rbc', 'hgb', 'plt', 'neut', 'lymph'] },
  lipids: { key: 'lipids', name: '血脂四项', loinc: '57698-3', items: ['chol', 'tg', 'hdl', 'ldl'] },
  glucose: { key: 'glucose', name: '空腹血糖', loinc: '', items: ['glu'] },
  hba1c: { key: 'hba1c', name: '糖化血红蛋白', loinc: '', items: ['hba1c'] },
  renal: { key: 'renal', name: '肾功能', loinc: '24362-6', items: ['crea', 'urea', 'ua'] },
  liver: { key: 'liver', name: '肝功能', loinc: '24325-3', items: ['alt', 'ast', 'tbil', 'alb'] },
};

/** Vital signs and measurements (LOINC, UCUM). */
export const VITALS = {
  sbp: { loinc: '8480-6', name: '收缩压', unit: 'mm[Hg]' },
  dbp: { loinc: '8462-4', name: '舒张压', unit: 'mm[Hg]' },
  hr: { loinc: '8867-4', name: '心率', unit: '/min' },
  weight: { loinc: '29463-7', name: '体重', unit: 'kg' },
  height: { loinc: '8302-2', name: '身高', unit: 'cm' },
  fpg: { loinc: '1558-6', name: '空腹血糖', unit: 'mmol/L' },
  gestation: { loinc: '49051-6', name: '孕周', unit: 'wk' },
} as const;
