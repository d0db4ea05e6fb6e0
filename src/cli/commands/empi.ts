import type { Command } from 'commander';
import { configFrom, withGlobalOptions } from '../global-options.ts';

type Opts = Record<string, string | boolean | undefined>;

/**
 * `healthbrain empi eval|dedupe|train|review`: the master patient index's operator commands, through the operator API
 * (/admin/empi/…) of a running server, or in-process when none answers.
 */
export function register(program: Command): void {
  const empi = program.command('empi').description('master patient index (EMPI): evaluation, batch dedupe, review queue');

  withGlobalOptions(
    empi
      .command('eval')
      .description('pairwise precision, recall, F1 of the automatic links and the review-queue size against a ground truth')
      .requiredOption('--truth <dir>', "the synthetic county's truth directory (or the county directory holding truth/)")
      .option('--json', 'print JSON'),
  ).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const { readFileSync } = await import('node:fs');
    const { truthFile } = await import('../../empi/truth.ts');
    const mrnsCsv = readFileSync(truthFile(String(opts.truth)), 'utf8');
    const e = await withPlatform(configFrom(opts as Record<string, string | undefined>), (c) =>
      c.request<Record<string, number>>('POST', '/admin/empi/eval', { body: { mrnsCsv } }),
    );
    if (opts.json) return void console.log(JSON.stringify(e, null, 2));
    const f = (x: number) => x.toFixed(4);
    console.log(`records            ${e.records} (${e.truePersons} true persons, ${e.predictedPersons} linked persons)`);
    console.log(`precision          ${f(e.precision)}`);
    console.log(`recall             ${f(e.recall)}`);
    console.log(`F1                 ${f(e.f1)}`);
    console.log(`review queue       ${e.reviewPending} pending (${e.reviewPercentOfPersons.toFixed(2)} % of persons; ${e.reviewTrueMatches} true matches)`);
    console.log(`recall after review ${f(e.recallAfterReview)}`);
  });

  withGlobalOptions(
    empi
      .command('dedupe')
      .description('batch mode: link every registered Patient that has no person yet (initial load of a county)')
      .option('--no-train', 'keep the current m/u instead of re-estimating them by EM')
      .option('--json', 'print JSON'),
  ).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const r = await withPlatform(configFrom(opts as Record<string, string | undefined>), (c) =>
      c.request<Record<string, unknown>>('POST', '/admin/empi/dedupe', { body: { train: opts.train !== false } }),
    );
    if (opts.json) return void console.log(JSON.stringify(r, null, 2));
    console.log(`records ${r.records}  pairs ${r.pairs}  link edges ${r.linkEdges}  new persons ${r.newPersons}  review items ${r.reviewItems}`);
    console.log(`seconds ${JSON.stringify(r.seconds)}`);
  });

  withGlobalOptions(empi.command('train').description('re-estimate m/u by EM from the registry and the review decisions')).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const r = await withPlatform(configFrom(opts as Record<string, string | undefined>), (c) => c.request<Record<string, unknown>>('POST', '/admin/empi/train'));
    console.log(JSON.stringify(r, null, 2));
  });

  const review = empi.command('review').description('the review queue: list, show, decide');
  withGlobalOptions(
    review
      .command('list')
      .description('list review items, highest weight first')
      .option('--status <status>', 'pending (default), linked or not-linked')
      .option('--limit <n>', 'how many', '20')
      .option('--json', 'print JSON'),
  ).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const qs = new URLSearchParams({ limit: String(opts.limit ?? 20), ...(opts.status ? { status: String(opts.status) } : {}) });
    const r = await withPlatform(configFrom(opts as Record<string, string | undefined>), (c) =>
      c.request<{ total: number; items: Array<{ reviewId: number; patientKeyA: string; patientKeyB: string; weight: number; reason: string | null }> }>('GET', `/admin/empi/reviews?${qs}`),
    );
    if (opts.json) return void console.log(JSON.stringify(r, null, 2));
    console.log(`${r.total} item(s)`);
    for (const i of r.items) console.log(`${i.reviewId}\t${i.weight.toFixed(1)}\t${i.patientKeyA}\t${i.patientKeyB}\t${i.reason ?? ''}`);
  });

  withGlobalOptions(review.command('show').description('one item: both records side by side with the evidence').argument('<id>')).action(
    async (id: string, opts: Opts) => {
      const { withPlatform } = await import('../client.ts');
      const r = await withPlatform(configFrom(opts as Record<string, string | undefined>), (c) => c.request('GET', `/admin/empi/reviews/${encodeURIComponent(id)}`));
      console.log(JSON.stringify(r, null, 2));
    },
  );

  withGlobalOptions(
    review
      .command('decide')
      .description('decide an item: link (merge the two persons) or not-link')
      .argument('<id>')
      .argument('<decision>', 'link | not-link'),
  ).action(async (id: string, decision: string, opts: Opts) => {
    if (decision !== 'link' && decision !== 'not-link') throw new Error("decision must be 'link' or 'not-link'");
    const { withPlatform } = await import('../client.ts');
    const r = await withPlatform(configFrom(opts as Record<string, string | undefined>), (c) =>
      c.request('POST', `/admin/empi/reviews/${encodeURIComponent(id)}`, { body: { decision } }),
    );
    console.log(JSON.stringify(r));
  });
}
