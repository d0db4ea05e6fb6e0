/**
 * Drugs with WHO ATC codes as the standard code (the national medical-insurance drug code, 医保药品编码, is not
 * shipped), Chinese generic names and a usual regimen.
 */
export interface Drug {
  key: string;
  atc: string;
  name: string;
  strength: string;
  dose: number;
  doseUnit: string;
  frequency: 'qd' | 'bid' | 'tid' | 'qn';
  route: string;
  synonyms: readonly string[];
}

const d = (key: string, atc: string, name: string, strength: string, dose: number, doseUnit: string, frequency: Drug['frequency'], synonyms: string[], route = '口服'): Drug =>
  ({ key, atc, name, strength, dose, doseUnit, frequency, route, synonyms });

export const DRUGS: Record<string, Drug> = Object.fromEntries(
  [
    d('amlodipine', 'C08CA01', '苯磺酸氨氯地平片', '5mg*28片', 5, 'mg', 'qd', ['氨氯地平', '络活喜', '苯磺酸氨氯地平片']),
    d('nifedipine', 'C08CA05', '硝苯地平缓释片', '20mg*30片', 20, 'mg', 'bid', ['硝苯地平缓释片', '硝苯地平']),
    d('valsartan', 'C09CA03', '缬沙坦胶囊', '80mg*28粒', 80, 'mg', 'qd', ['缬沙坦', '代文']),
    d('irbesartan', 'C09CA04', '厄贝沙坦片', '150mg*7片', 150, 'mg', 'qd', ['厄贝沙坦', '安博维']),
    d('hctz', 'C03AA03', '氢氯噻嗪片', '25mg*100片', 12.5, 'mg', 'qd', ['氢氯噻嗪', '双氢克尿噻']),
    d('metoprolol', 'C07AB02', '酒石酸美托洛尔片', '25mg*20片', 25, 'mg', 'bid', ['美托洛尔', '倍他乐克']),
    d('metformin', 'A10BA02', '盐酸二甲双胍片', '0.5g*20片', 0.5, 'g', 'tid', ['二甲双胍', '格华止', '盐酸二甲双胍片']),
    d('glimepiride', 'A10BB12', '格列美脲片', '2mg*15片', 2, 'mg', 'qd', ['格列美脲', '亚莫利']),
    d('acarbose', 'A10BF01', '阿卡波糖片', '50mg*30片', 50, 'mg', 'tid', ['阿卡波糖', '拜糖平']),
    d('glargine', 'A10AE04', '甘精胰岛素注射液', '300U/3ml', 12, 'U', 'qn', ['甘精胰岛素', '来得时'], '皮下注射'),
    d('atorvastatin', 'C10AA05', '阿托伐他汀钙片', '20mg*7片', 20, 'mg', 'qn', ['阿托伐他汀', '立普妥']),
    d('rosuvastatin', 'C10AA07', '瑞舒伐他汀钙片', '10mg*7片', 10, 'mg', 'qn', ['瑞舒伐他汀', '可定']),
    d('aspirin', 'B01AC06', '阿司匹林肠溶片', '100mg*30片', 100, 'mg', 'qd', ['阿司匹林肠溶片', '拜阿司匹灵', '阿斯匹林']),
    d('clopidogrel', 'B01AC04', '硫酸氢氯吡格雷片', '75mg*7片', 75, 'mg', 'qd', ['氯吡格雷', '波立维']),
    d('tiotropium', 'R03BB04', '噻托溴铵粉吸入剂', '18μg*10粒', 18, 'μg', 'qd', ['噻托溴铵', '思力华'], '吸入'),
    d('amoxicillin', 'J01CA04', '阿莫西林胶囊', '0.25g*24粒', 0.5, 'g', 'tid', ['阿莫西林', '阿莫仙']),
    d('cefuroxime', 'J01DC02', '头孢呋辛酯片', '0.25g*12片', 0.25, 'g', 'bid', ['头孢呋辛', '西力欣']),
    d('levofloxacin', 'J01MA12', '左氧氟沙星片', '0.5g*4片', 0.5, 'g', 'qd', ['左氧氟沙星', '可乐必妥']),
    d('oseltamivir', 'J05AH02', '磷酸奥司他韦胶囊', '75mg*10粒', 75, 'mg', 'bid', ['奥司他韦', '达菲']),
    d('ibuprofen', 'M01AE01', '布洛芬缓释胶囊', '0.3g*20粒', 0.3, 'g', 'bid', ['布洛芬', '芬必得']),
    d('paracetamol', 'N02BE01', '对乙酰氨基酚片', '0.5g*12片', 0.5, 'g', 'tid', ['对乙酰氨基酚', '扑热息痛', '泰诺林']),
    d('omeprazole', 'A02BC01', '奥美拉唑肠溶胶囊', '20mg*14粒', 20, 'mg', 'qd', ['奥美拉唑', '洛赛克']),
    d('smectite', 'A07BC05', '蒙脱石散', '3g*10袋', 3, 'g', 'tid', ['蒙脱石散', '思密达']),
    d('ambroxol', 'R05CB06', '盐酸氨溴索片', '30mg*20片', 30, 'mg', 'tid', ['氨溴索', '沐舒坦']),
    d('diclofenac', 'M01AB05', '双氯芬酸钠缓释片', '75mg*10片', 75, 'mg', 'qd', ['双氯芬酸钠', '扶他林']),
    d('folic', 'B03BB01', '叶酸片', '0.4mg*31片', 0.4, 'mg', 'qd', ['叶酸', '斯利安']),
    d('iron', 'B03AA07', '硫酸亚铁片', '0.3g*60片', 0.3, 'g', 'tid', ['硫酸亚铁', '速力菲']),
  ].map((x) => [x.key, x]),
);

/** Which drugs treat which condition or diagnosis key. */
export const TREATS: Record<string, readonly string[]> = {
  hypertension: ['amlodipine', 'nifedipine', 'valsartan', 'irbesartan', 'hctz', 'metoprolol'],
  diabetes: ['metformin', 'glimepiride', 'acarbose', 'glargine'],
  dyslipidaemia: ['atorvastatin', 'rosuvastatin'],
  chd: ['aspirin', 'atorvastatin', 'metoprolol'],
  stroke: ['aspirin', 'clopidogrel', 'atorvastatin'],
  copd: ['tiotropium', 'ambroxol'],
  copd_exac: ['levofloxacin', 'ambroxol'],
  urti: ['paracetamol', 'ibuprofen', 'ambroxol'],
  influenza: ['oseltamivir', 'paracetamol'],
  bronchitis: ['amoxicillin', 'ambroxol', 'cefuroxime'],
  pneumonia: ['levofloxacin', 'cefuroxime', 'ambroxol'],
  gastritis: ['omeprazole'],
  gastroenteritis: ['smectite'],
  lowbackpain: ['diclofenac', 'ibuprofen'],
  kneeoa: ['diclofenac'],
  headache: ['ibuprofen', 'paracetamol'],
  uti: ['levofloxacin'],
  angina: ['aspirin', 'clopidogrel', 'atorvastatin'],
  pregnancy: ['folic', 'iron'],
};
