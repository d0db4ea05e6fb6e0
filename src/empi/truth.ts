/** Reads the synthetic county's ground truth: patient_key → true person id. */
export async function loadTruth(truthDir: string): Promise<Map<string, string>> {
  throw new Error(`truth format not known yet: ${truthDir}`);
}
