import type { Queryable } from '../store/index.ts';
import type { ReadAhead, UnitContext } from './context.ts';

/**
 * Lab rows of one report (检验报告单) arrive as separate units; the DiagnosticReport must list all of them. Each row
 * records its Observation under the report id (std_report_member) and rebuilds the report from the full list, so
 * the last row's version of the report is complete whatever the arrival order. Returns the Observation ids, sorted.
 */
export async function memberResults(ctx: UnitContext, reportId: string, observationId: string): Promise<string[]> {
  if (ctx.ahead) return batchMembers(ctx, ctx.ahead, reportId, observationId);
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

/**
 * In a worker batch: the report's members as read ahead (or read now, one statement, for a report not read ahead)
 * plus this batch's, in memory; the new membership is written with the batch's others at its end (writeMembers).
 * Sorted as the statement above sorts them (Observation ids are hex: the same order in any collation).
 */
async function batchMembers(ctx: UnitContext, ahead: ReadAhead, reportId: string, observationId: string): Promise<string[]> {
  const key = `${ctx.institutionId}\u0001${reportId}`;
  let members = ahead.members.get(key);
  if (!members) {
    const { rows } = await ctx.tx.query<{ observation_id: string }>(
      `SELECT observation_id FROM std_report_member WHERE institution_id = $1 AND report_id = $2`,
      [ctx.institutionId, reportId],
    );
    ahead.members.set(key, (members = new Set(rows.map((r) => r.observation_id))));
  }
  if (!members.has(observationId)) {
    members.add(observationId);
    ahead.newMembers.push([ctx.institutionId, reportId, observationId]);
  }
  return [...members].sort();
}

/** The members of a batch's reports, read ahead in one statement: report ids of the same institution. */
export async function readMembers(tx: Queryable, ahead: ReadAhead, reports: Array<[string, string]>): Promise<void> {
  const todo = reports.filter(([inst, id]) => !ahead.members.has(`${inst}\u0001${id}`));
  if (!todo.length) return;
  for (const [inst, id] of todo) ahead.members.set(`${inst}\u0001${id}`, new Set());
  const { rows } = await tx.query<{ institution_id: string; report_id: string; observation_id: string }>(
    `SELECT m.institution_id, m.report_id, m.observation_id
       FROM std_report_member m JOIN unnest($1::text[], $2::text[]) AS x(institution_id, report_id) USING (institution_id, report_id)`,
    [todo.map(([inst]) => inst), todo.map(([, id]) => id)],
  );
  for (const r of rows) ahead.members.get(`${r.institution_id}\u0001${r.report_id}`)!.add(r.observation_id);
}

/** The memberships a batch added, in one statement (sorted: concurrent workers insert in one order). */
export async function writeMembers(tx: Queryable, ahead: ReadAhead): Promise<void> {
  if (!ahead.newMembers.length) return;
  const rows = [...ahead.newMembers].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
  await tx.query(
    `INSERT INTO std_report_member (institution_id, report_id, observation_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
  );
}
