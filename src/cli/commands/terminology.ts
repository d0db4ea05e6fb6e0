import type { Command } from 'commander';
import type { UnmappedCode } from '../../terminology/index.ts';
import { configFrom, withGlobalOptions } from '../global-options.ts';

type Opts = Record<string, string | boolean | undefined>;

/** `UnmappedCode` as the operator API sends it: dates as ISO strings. */
type UnmappedJson = Omit<UnmappedCode, 'firstSeen' | 'lastSeen'> & { firstSeen: string; lastSeen: string };

/**
 * Terminology commands (issue 4): `terminology unmapped` (local codes without a map, with suggestions),
 * `terminology confirm` (write the map entry and requeue the units it fixes), `terminology import` (an operator's
 * licensed code table, e.g. the full ICD-10 国家临床版), `terminology conceptmap` and `terminology lookup`. All talk
 * to the operator API of the server at --server, or run the app in-process when none answers.
 */
export function register(program: Command): void {
  const t = program.command('terminology').description('standard code systems and the institutions\' local-code maps');

  withGlobalOptions(
    t.command('unmapped')
      .description('local codes seen without a map, most frequent first, with the top-3 suggested standard codes')
      .option('--institution <ref>', 'only this institution')
      .option('--limit <n>', 'how many', '50')
      .option('--json', 'print JSON'),
  ).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const q = new URLSearchParams();
    for (const k of ['institution', 'limit'] as const) if (opts[k]) q.set(k, String(opts[k]));
    const rows = await withPlatform(configFrom(opts as Record<string, string>), (c) => c.request<UnmappedJson[]>('GET', `/admin/terminology/unmapped?${q}`));
    if (opts.json) return void console.log(JSON.stringify(rows, null, 2));
    if (!rows.length) return void console.error('(no unmapped local codes)');
    for (const r of rows) {
      const s = r.suggestions.map((x) => `${x.code} ${x.display} (${x.score})`).join(' | ');
      console.log([r.institutionId, r.localSystem, r.localCode, r.localDisplay ?? '', r.count, s].join('\t'));
    }
  });

  withGlobalOptions(
    t.command('confirm')
      .description('map a local code to a standard code; quarantined units naming it are reprocessed')
      .requiredOption('--institution <ref>', 'institution id, code or name')
      .requiredOption('--local-system <uri>', 'local code system (as listed by `terminology unmapped`)')
      .requiredOption('--local-code <code>', 'local code (as listed)')
      .requiredOption('--code <code>', 'the standard code, e.g. I11.0')
      .option('--system <system>', 'the standard system (default: the one the code was recorded for)'),
  ).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const r = await withPlatform(configFrom(opts as Record<string, string>), (c) =>
      c.request<{ requeued: number }>('POST', '/admin/terminology/confirm', {
        body: { institution: opts.institution, localSystem: opts.localSystem, localCode: opts.localCode, targetCode: opts.code, targetSystem: opts.system },
      }),
    );
    console.log(`mapped; requeued ${r.requeued} unit(s)`);
  });

  withGlobalOptions(
    t.command('import')
      .description(
        'import a full code system from its publisher\'s file — `import loinc Loinc.csv`, `import icd10 icd10cm_tabular.xml|国家临床版.csv`, ' +
        '`import snomed-icd10-map der2_iisssccRefset_ExtendedMapSnapshot_….txt`, `import rxnorm RXNCONSO.RRF` (streamed, idempotent, versioned) — ' +
        'or a licensed table as CSV with --system (code,display[,parent]; UTF-8 or GBK)',
      )
      .option('--system <system>', 'for a CSV table: icd-10, icd-9-cm-3, loinc, atc, vaccine … or a code-system URI; for icd10: the system to import into')
      .option('--version <v>', 'the release (default: what the file says — LOINC VersionLastChanged, RF2 effectiveTime, <version> — or a date in the file name, else today)')
      .argument('<format-or-file>', 'loinc | icd10 | snomed-icd10-map | rxnorm, or the CSV file (with --system)')
      .argument('[file]', 'the distribution file'),
  ).action(async (formatOrFile: string, file: string | undefined, opts: Opts) => {
    if (file !== undefined) {
      const { importDistribution } = await import('../terminology-import.ts');
      const r = await importDistribution(configFrom(opts as Record<string, string>), formatOrFile, file, { version: opts.version as string | undefined, system: opts.system as string | undefined });
      console.log(`imported ${r.format} ${r.version}: ${r.concepts} concept(s), ${r.crossmaps} map(s) into ${r.system}; ${r.skipped} row(s) skipped`);
      return;
    }
    if (!opts.system) throw new Error('a CSV table needs --system (or give a format: import loinc|icd10|snomed-icd10-map|rxnorm FILE)');
    file = formatOrFile;
    const { readFile } = await import('node:fs/promises');
    const { withPlatform } = await import('../client.ts');
    const { decodeText } = await import('../../terminology/index.ts');
    // Decoded here (GBK or UTF-8, detected) and sent as UTF-8 text: the transport carries strings.
    const body = decodeText(await readFile(file));
    const r = await withPlatform(configFrom(opts as Record<string, string>), (c) =>
      c.request<{ imported: number; system: string }>('POST', `/admin/terminology/import?system=${encodeURIComponent(String(opts.system))}`, { body, contentType: 'text/csv; charset=utf-8' }),
    );
    console.log(`imported ${r.imported} code(s) into ${r.system}`);
  });

  withGlobalOptions(
    t.command('conceptmap')
      .description('an institution\'s local-code maps as a FHIR R4 ConceptMap (JSON)')
      .requiredOption('--institution <ref>', 'institution id, code or name'),
  ).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const cm = await withPlatform(configFrom(opts as Record<string, string>), (c) => c.request('GET', `/admin/terminology/conceptmap?institution=${encodeURIComponent(String(opts.institution))}`));
    console.log(JSON.stringify(cm, null, 2));
  });

  withGlobalOptions(
    t.command('lookup')
      .description('look a code up in the loaded tables')
      .requiredOption('--system <system>', 'icd-10, loinc, atc … or a URI')
      .argument('<code>'),
  ).action(async (code: string, opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const c = await withPlatform(configFrom(opts as Record<string, string>), (cl) =>
      cl.request('GET', `/admin/terminology/lookup?system=${encodeURIComponent(String(opts.system))}&code=${encodeURIComponent(code)}`));
    console.log(JSON.stringify(c, null, 2));
  });
}
