/**
 * The batch "core table" (核心表) dictionary: the CSV files that primary-care and county systems upload to the
 * regional platform's gateway (前置机) once a day. Modelled on the data sets of WS 445 (电子病历基本数据集) and
 * WS 365/WS 372 (城乡居民健康档案基本数据集 / 疾病管理基本数据集), reduced to the columns the platform uses.
 *
 * Each column has a stable English `key` (never renamed: the ingestion and standardization modules map on it), the
 * Chinese header name as it appears in files (`header`), a few header `aliases` seen from other vendors, a type,
 * a required flag and its meaning. Institutions may vary column ORDER, header language (Chinese headers are the
 * norm; some vendors send the English keys), date format and encoding (GBK or UTF-8, with or without BOM); those
 * variations are declared per institution in county.json (`csv` dialect), but a reader must also detect encoding
 * and map headers itself (see `findCoreColumn`).
 *
 * Stability rule: add tables and columns, never rename or remove them.
 */

export type CoreColumnType = 'string' | 'code' | 'date' | 'datetime' | 'integer' | 'decimal';

export interface CoreColumn {
  /** Stable English key, snake_case. */
  key: string;
  /** Chinese header as it appears in files (数据元名称). */
  header: string;
  /** Other headers vendors use for the same column. */
  aliases?: string[];
  type: CoreColumnType;
  required: boolean;
  /** What the column holds; for coded columns, which code system the platform expects after standardization. */
  meaning: string;
}

export interface CoreTable {
  /** Stable English key; also the file-name stem (`<key>-<part>.csv`). */
  key: string;
  /** Chinese table name (表名). */
  name: string;
  meaning: string;
  columns: CoreColumn[];
}

const c = (
  key: string,
  header: string,
  type: CoreColumnType,
  required: boolean,
  meaning: string,
  aliases?: string[],
): CoreColumn => (aliases ? { key, header, aliases, type, required, meaning } : { key, header, type, required, meaning });

/** Columns that identify the sending institution, the record and the patient; they open every table. */
const ORG = c('org_code', '机构代码', 'code', true, 'Sending institution code (医疗机构代码) as registered in county.json', ['医疗机构代码', '组织机构代码']);
const RECORD_ID = c('record_id', '记录编号', 'string', true, 'Unique id of this row within the institution (业务流水号); resending a row reuses it', ['流水号', '业务流水号']);
const MRN = c('patient_local_id', '患者编号', 'string', true, 'Local patient id / MRN (病案号/门诊号/档案号) at this institution', ['病人ID', '病案号', '患者ID']);
const VISIT_ID = c('visit_id', '就诊流水号', 'string', true, 'Local encounter id linking the row to its visit', ['就诊号', '门诊号/住院号']);

export const CORE_TABLES: readonly CoreTable[] = [
  {
    key: 'patient',
    name: '患者基本信息',
    meaning: 'Patient master data as registered at this institution (one row per local patient, resent on change)',
    columns: [
      ORG,
      RECORD_ID,
      MRN,
      c('name', '姓名', 'string', true, 'Full name as entered (Chinese characters, or Latin script for foreigners)', ['患者姓名']),
      c('sex_code', '性别代码', 'code', false, 'Sex, GB/T 2261.1 (0 unknown, 1 male, 2 female, 9 unspecified); local codes vary', ['性别']),
      c('birth_date', '出生日期', 'date', false, 'Date of birth', ['出生年月日']),
      c('id_type', '证件类型', 'code', false, 'Identity document type (01 resident ID card 居民身份证, 03 passport 护照, 99 other) per WS 364.3 CV02.01.101', ['身份证件类别代码']),
      c('id_number', '证件号码', 'string', false, 'Identity document number: 18-digit GB 11643 resident ID, an old 15-digit one, or a passport number', ['身份证号', '身份证件号码']),
      c('phone', '联系电话', 'string', false, 'Mobile or landline number', ['手机号码', '电话']),
      c('address', '现住址', 'string', false, 'Current address, free text', ['住址', '家庭住址']),
      c('division_code', '行政区划代码', 'code', false, 'Village/community code, GB/T 2260 + 统计用区划代码 (12 digits)', ['区划代码']),
      c('nationality', '国籍', 'code', false, 'Nationality, GB/T 2659 alpha-3 (CHN…)', ['国籍代码']),
      c('updated_at', '更新时间', 'datetime', true, 'When this row was last changed at the source', ['修改时间']),
    ],
  },
  {
    key: 'outpatient_visit',
    name: '门诊就诊记录',
    meaning: 'One row per outpatient or emergency visit (门急诊)',
    columns: [
      ORG, RECORD_ID, MRN, VISIT_ID,
      c('visit_time', '就诊时间', 'datetime', true, 'Visit start', ['挂号时间']),
      c('visit_type', '就诊类型', 'code', true, 'Local visit type: 门诊 outpatient, 急诊 emergency', ['门急诊标志']),
      c('dept_code', '科室代码', 'code', false, 'Local department code', ['就诊科室代码']),
      c('dept_name', '科室名称', 'string', false, 'Local department name', ['就诊科室']),
      c('doctor_name', '接诊医生', 'string', false, 'Attending doctor', ['医生姓名']),
      c('chief_complaint', '主诉', 'string', false, 'Chief complaint, free text'),
    ],
  },
  {
    key: 'inpatient_visit',
    name: '住院就诊记录',
    meaning: 'One row per inpatient stay (住院), written at discharge',
    columns: [
      ORG, RECORD_ID, MRN, VISIT_ID,
      c('admit_time', '入院时间', 'datetime', true, 'Admission'),
      c('discharge_time', '出院时间', 'datetime', false, 'Discharge (empty while in hospital)'),
      c('dept_code', '科室代码', 'code', false, 'Local department code', ['入院科室代码']),
      c('dept_name', '科室名称', 'string', false, 'Local department name', ['入院科室']),
      c('ward_bed', '床号', 'string', false, 'Ward and bed'),
      c('discharge_disposition', '离院方式', 'code', false, 'WS 364 CV06.00.226: 1 医嘱离院, 2 转院, 4 非医嘱离院, 5 死亡, 9 其他'),
    ],
  },
  {
    key: 'diagnosis',
    name: '诊断记录',
    meaning: 'One row per diagnosis of a visit; local code and name as the institution records them',
    columns: [
      ORG, RECORD_ID, MRN, VISIT_ID,
      c('diagnosis_time', '诊断时间', 'datetime', true, 'When the diagnosis was made'),
      c('diagnosis_type', '诊断类型', 'code', false, 'Local: 1 主要诊断 principal, 2 其他诊断 secondary', ['诊断类别']),
      c('local_code', '诊断代码', 'code', false, 'Local diagnosis code (often an ICD-10 variant; standard: ICD-10 国家临床版 2.0)', ['疾病编码', 'ICD编码']),
      c('local_name', '诊断名称', 'string', true, 'Diagnosis name as written, with local synonyms and typos', ['疾病名称']),
    ],
  },
  {
    key: 'lab_result',
    name: '检验结果',
    meaning: 'One row per lab item result (检验项目结果); a panel is several rows sharing report_id',
    columns: [
      ORG, RECORD_ID, MRN, VISIT_ID,
      c('report_id', '检验报告单号', 'string', true, 'Report (panel) id', ['报告单号']),
      c('panel_code', '检验组合代码', 'code', false, 'Local panel code', ['组合代码']),
      c('panel_name', '检验组合名称', 'string', false, 'Local panel name', ['组合名称']),
      c('item_code', '检验项目代码', 'code', true, 'Local item code (standard: LOINC)', ['项目代码']),
      c('item_name', '检验项目名称', 'string', true, 'Local item name', ['项目名称']),
      c('value', '检验结果', 'string', true, 'Result value as text (numeric for quantitative items)', ['结果']),
      c('unit', '单位', 'string', false, 'Unit as written locally (standard: UCUM)', ['结果单位']),
      c('reference_range', '参考范围', 'string', false, 'Reference range text, e.g. 3.9-6.1', ['参考值']),
      c('abnormal_flag', '异常标志', 'code', false, 'H high, L low, N normal (HL7 table 0078 style)', ['结果标志']),
      c('specimen_time', '采样时间', 'datetime', false, 'Specimen collection time'),
      c('report_time', '报告时间', 'datetime', true, 'Report time'),
    ],
  },
  {
    key: 'exam_report',
    name: '检查报告',
    meaning: 'One row per imaging/functional exam report (检查报告: X-ray, ultrasound, CT, ECG)',
    columns: [
      ORG, RECORD_ID, MRN, VISIT_ID,
      c('exam_code', '检查项目代码', 'code', true, 'Local exam code (standard: LOINC radiology/exam codes)', ['项目代码']),
      c('exam_name', '检查项目名称', 'string', true, 'Local exam name', ['项目名称']),
      c('body_site', '检查部位', 'string', false, 'Body site'),
      c('findings', '检查所见', 'string', false, 'Findings text (影像所见)'),
      c('impression', '检查结论', 'string', false, 'Impression text (诊断意见)', ['诊断意见']),
      c('exam_time', '检查时间', 'datetime', true, 'When the exam was done'),
      c('report_time', '报告时间', 'datetime', true, 'Report time'),
    ],
  },
  {
    key: 'prescription',
    name: '处方明细',
    meaning: 'One row per prescribed drug (处方/医嘱明细)',
    columns: [
      ORG, RECORD_ID, MRN, VISIT_ID,
      c('prescription_id', '处方号', 'string', true, 'Prescription id (several rows share it)'),
      c('drug_code', '药品代码', 'code', true, 'Local drug code', ['药品编码']),
      c('drug_name', '药品名称', 'string', true, 'Drug name (generic, sometimes with brand)', ['通用名']),
      c('strength', '规格', 'string', false, 'Strength/pack, e.g. 5mg*28片'),
      c('dose', '单次剂量', 'decimal', false, 'Dose per administration'),
      c('dose_unit', '剂量单位', 'string', false, 'Dose unit'),
      c('frequency', '频次', 'code', false, 'Frequency, e.g. qd, bid, tid'),
      c('route', '给药途径', 'string', false, 'Route, e.g. 口服'),
      c('days', '用药天数', 'integer', false, 'Days supplied'),
      c('quantity', '数量', 'decimal', false, 'Quantity dispensed'),
      c('order_time', '开具时间', 'datetime', true, 'When prescribed'),
    ],
  },
  {
    key: 'procedure',
    name: '手术操作',
    meaning: 'One row per procedure/operation (手术及操作)',
    columns: [
      ORG, RECORD_ID, MRN, VISIT_ID,
      c('procedure_code', '操作代码', 'code', false, 'Local procedure code (standard: ICD-9-CM-3 临床版)', ['手术编码']),
      c('procedure_name', '操作名称', 'string', true, 'Procedure name', ['手术名称']),
      c('procedure_time', '操作时间', 'datetime', true, 'When performed', ['手术日期']),
      c('operator', '术者', 'string', false, 'Operator'),
    ],
  },
  {
    key: 'immunization',
    name: '预防接种',
    meaning: 'One row per vaccine dose (预防接种记录)',
    columns: [
      ORG, RECORD_ID, MRN,
      c('vaccine_code', '疫苗代码', 'code', true, 'Local vaccine code (standard: national immunization programme vaccine code, see catalog)', ['疫苗编码']),
      c('vaccine_name', '疫苗名称', 'string', true, 'Vaccine name'),
      c('dose_number', '剂次', 'integer', false, 'Dose number in series'),
      c('vaccination_date', '接种日期', 'date', true, 'Date given'),
      c('lot_number', '批号', 'string', false, 'Lot number'),
      c('site', '接种部位', 'string', false, 'Injection site'),
    ],
  },
  {
    key: 'health_archive',
    name: '健康档案',
    meaning: 'Resident health archive header (个人基本信息表, 建档); one row per archive, resent on change',
    columns: [
      ORG, RECORD_ID, MRN,
      c('archive_no', '档案编号', 'string', true, '17-digit archive number (区划代码+序号)', ['健康档案编号']),
      c('name', '姓名', 'string', true, 'Resident name'),
      c('sex_code', '性别代码', 'code', false, 'Sex, GB/T 2261.1'),
      c('birth_date', '出生日期', 'date', false, 'Date of birth'),
      c('id_number', '身份证号', 'string', false, 'Resident ID number', ['证件号码']),
      c('phone', '联系电话', 'string', false, 'Phone'),
      c('division_code', '行政区划代码', 'code', false, 'Village/community code (GB/T 2260 + 统计用区划代码)'),
      c('address', '现住址', 'string', false, 'Address'),
      c('created_date', '建档日期', 'date', true, 'Archive creation date'),
      c('responsible_doctor', '责任医生', 'string', false, 'Responsible (family) doctor'),
      c('contract_date', '签约日期', 'date', false, 'Family-doctor contract (家庭医生签约) date, empty when not contracted'),
    ],
  },
  {
    key: 'chronic_followup',
    name: '慢病随访',
    meaning: 'Hypertension / type-2 diabetes follow-up visit (高血压/2型糖尿病患者随访服务记录表), quarterly',
    columns: [
      ORG, RECORD_ID, MRN,
      c('disease', '随访病种', 'code', true, 'Local disease code: 1 高血压 (ICD-10 I10), 2 糖尿病 (ICD-10 E11.9)', ['病种']),
      c('followup_date', '随访日期', 'date', true, 'Follow-up date'),
      c('followup_method', '随访方式', 'code', false, '1 门诊, 2 家庭, 3 电话'),
      c('sbp', '收缩压', 'integer', false, 'Systolic BP mmHg (LOINC 8480-6)'),
      c('dbp', '舒张压', 'integer', false, 'Diastolic BP mmHg (LOINC 8462-4)'),
      c('fasting_glucose', '空腹血糖', 'decimal', false, 'Fasting glucose, mmol/L unless glucose_unit says otherwise (LOINC 1558-6)'),
      c('glucose_unit', '血糖单位', 'string', false, 'Unit of fasting_glucose when not mmol/L'),
      c('weight', '体重', 'decimal', false, 'Weight kg (LOINC 29463-7)'),
      c('heart_rate', '心率', 'integer', false, 'Heart rate /min (LOINC 8867-4)'),
      c('control_status', '此次随访分类', 'code', false, '1 控制满意, 2 控制不满意, 3 不良反应, 4 并发症'),
      c('next_date', '下次随访日期', 'date', false, 'Next scheduled follow-up'),
      c('doctor', '随访医生', 'string', false, 'Doctor'),
    ],
  },
  {
    key: 'physical_exam',
    name: '体检记录',
    meaning: 'Health check-up (健康体检表), e.g. the annual check-up of residents aged 65+',
    columns: [
      ORG, RECORD_ID, MRN,
      c('exam_date', '体检日期', 'date', true, 'Check-up date'),
      c('height', '身高', 'decimal', false, 'Height cm (LOINC 8302-2)'),
      c('weight', '体重', 'decimal', false, 'Weight kg (LOINC 29463-7)'),
      c('sbp', '收缩压', 'integer', false, 'Systolic BP mmHg (LOINC 8480-6)'),
      c('dbp', '舒张压', 'integer', false, 'Diastolic BP mmHg (LOINC 8462-4)'),
      c('fasting_glucose', '空腹血糖', 'decimal', false, 'Fasting glucose mmol/L (LOINC 1558-6)'),
      c('total_cholesterol', '总胆固醇', 'decimal', false, 'Total cholesterol mmol/L (LOINC 2093-3)'),
      c('creatinine', '血肌酐', 'decimal', false, 'Creatinine µmol/L (LOINC 2160-0)'),
      c('conclusion', '体检结论', 'string', false, 'Summary (健康评价)'),
    ],
  },
  {
    key: 'antenatal_care',
    name: '产前检查',
    meaning: 'Antenatal visit (产前随访服务记录表)',
    columns: [
      ORG, RECORD_ID, MRN,
      c('visit_date', '检查日期', 'date', true, 'Visit date'),
      c('gestational_weeks', '孕周', 'integer', false, 'Gestational age in weeks (LOINC 49051-6)'),
      c('sbp', '收缩压', 'integer', false, 'Systolic BP mmHg'),
      c('dbp', '舒张压', 'integer', false, 'Diastolic BP mmHg'),
      c('weight', '体重', 'decimal', false, 'Weight kg'),
      c('hemoglobin', '血红蛋白', 'decimal', false, 'Hemoglobin g/L (LOINC 718-7)'),
      c('expected_delivery_date', '预产期', 'date', false, 'Expected delivery date'),
    ],
  },
  {
    key: 'family_doctor_contract',
    name: '家庭医生签约',
    meaning: 'Family-doctor contract (家庭医生签约服务协议), one row per contract year',
    columns: [
      ORG, RECORD_ID, MRN,
      c('contract_no', '签约编号', 'string', true, 'Contract number'),
      c('team_name', '签约团队', 'string', false, 'Family-doctor team'),
      c('doctor', '签约医生', 'string', false, 'Doctor'),
      c('start_date', '签约日期', 'date', true, 'Contract start'),
      c('end_date', '到期日期', 'date', false, 'Contract end'),
      c('package', '服务包', 'string', false, 'Service package, e.g. 基础包, 高血压包'),
    ],
  },
];

/** The table with this key, or undefined. */
export function coreTable(key: string): CoreTable | undefined {
  return CORE_TABLES.find((t) => t.key === key);
}

/**
 * Finds the column a file header denotes: the Chinese header, an alias or the English key, compared after trimming,
 * removing a UTF-8 BOM, full-width parentheses and case.
 */
export function findCoreColumn(table: CoreTable, header: string): CoreColumn | undefined {
  const h = normalizeHeader(header);
  return table.columns.find(
    (col) => normalizeHeader(col.key) === h || normalizeHeader(col.header) === h || (col.aliases ?? []).some((a) => normalizeHeader(a) === h),
  );
}

function normalizeHeader(s: string): string {
  return s.replace(/^\uFEFF/, '').replace(/（/g, '(').replace(/）/g, ')').replace(/\s+/g, '').toLowerCase();
}
