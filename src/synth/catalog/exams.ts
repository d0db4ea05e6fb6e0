/** Imaging and functional exams (检查) with LOINC codes and report text templates (findings 所见, impression 结论). */
export interface ExamType {
  key: string;
  loinc: string;
  name: string;
  site: string;
  synonyms: readonly string[];
  /** Report variants: [findings, impression]; index 0 is the normal report. */
  reports: Record<string, readonly [string, string]>;
}

export const EXAMS: Record<string, ExamType> = {
  cxr: {
    key: 'cxr', loinc: '36643-5', name: '胸部X线摄影（正侧位）', site: '胸部',
    synonyms: ['胸片', '胸部正侧位片', 'DR胸部正侧位', '胸部X线'],
    reports: {
      normal: ['两肺纹理清晰，未见明显实质性病变。心影大小形态正常。双膈面光整，肋膈角锐利。', '心肺未见明显异常。'],
      pneumonia: ['右下肺野见斑片状模糊影，边界不清，余肺野清晰。心影不大。', '右下肺炎，建议治疗后复查。'],
      copd: ['两肺透亮度增高，肺纹理增粗、紊乱，膈肌低平。心影狭长。', '慢性支气管炎、肺气肿征象。'],
    },
  },
  abdus: {
    key: 'abdus', loinc: '24558-9', name: '腹部超声（肝胆胰脾）', site: '腹部',
    synonyms: ['腹部B超', '肝胆胰脾B超', '腹部彩超', '上腹部超声'],
    reports: {
      normal: ['肝脏大小形态正常，包膜光整，实质回声均匀。胆囊壁光滑，腔内未见异常回声。胰、脾未见明显异常。', '肝胆胰脾未见明显异常。'],
      fattyliver: ['肝脏形态饱满，实质回声细密增强，后方回声衰减。胆囊、胰、脾未见明显异常。', '脂肪肝（轻度）。'],
      gallstone: ['胆囊大小正常，囊内见强回声团伴声影，随体位移动。肝、胰、脾未见明显异常。', '胆囊结石。'],
    },
  },
  headct: {
    key: 'headct', loinc: '24725-4', name: '头颅CT平扫', site: '头颅',
    synonyms: ['头颅CT', '颅脑CT平扫', '头部CT'],
    reports: {
      normal: ['脑实质内未见异常密度影，脑室系统大小形态正常，中线结构居中。', '颅脑CT平扫未见明显异常。'],
      infarct: ['左侧基底节区见斑片状低密度影，边界欠清，中线结构居中。', '左侧基底节区腔隙性脑梗死。'],
    },
  },
  ecg: {
    key: 'ecg', loinc: '11524-6', name: '常规心电图', site: '心脏',
    synonyms: ['心电图', '十二导联心电图', 'ECG'],
    reports: {
      normal: ['窦性心律，心率72次/分，各导联ST-T未见明显异常。', '正常心电图。'],
      ischemia: ['窦性心律，V4-V6导联ST段压低0.1mV，T波低平。', 'ST-T改变，提示心肌缺血。'],
    },
  },
  obus: {
    key: 'obus', loinc: '11525-3', name: '产科超声', site: '子宫',
    synonyms: ['产科B超', '孕期超声', '胎儿超声'],
    reports: {
      normal: ['宫内见单胎，胎心搏动规律，胎儿大小与孕周相符，羊水量正常，胎盘位置正常。', '宫内妊娠，单活胎。'],
    },
  },
};
