import type { UnitContext } from './context.ts';

/**
 * Lab rows of one report (检验报告单) arrive as separate units; the DiagnosticReport must list all of them. Each row
 * records its Observation under the report id (std_report_member) and rebuilds the report from the full list, so
 * the last row's version of the report is complete whatever the arrival order. Returns the Observation ids, sorted.
 */
export async function memberResults(ctx: UnitContext, reportId: string, observationId: string): Promise<string[]> {
  // One round trip: the insert's row is not visible to the statement's own SELECT, hence the UNION.
  const { rows } = await ctx.tx.query<{ observation_id: string }>(
    `WITH ins AS (
       INSERT INTO std_report_member (institution_id, report_id, observation_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING observation_id)
     SELECT observation_id FROM std_report_member WHERE institution_id = $1 AND report_id = $2
     UNION SELECT observation_id FROM ins
     ORDER BY 1`,
    [ctx.institutionId, reportId, observationId],
  );
  return rows.map((r) => r.observation_id);
}
