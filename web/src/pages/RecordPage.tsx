import { useState } from 'react';
import type { RecordSummary } from '../../../src/record/summary-types.ts';
import { type Api, ApiError } from '../api/client.ts';
import { offersBreakGlass } from '../api/outcome.ts';
import { ErrorBox, Loading } from '../components/States.tsx';
import { useI18n } from '../i18n/I18nProvider.tsx';
import type { MessageKey } from '../i18n/translate.ts';
import { formatDateTime } from '../lib/dates.ts';
import { errorMessage, useAsync } from '../lib/use-async.ts';
import { BreakGlassDialog } from './record/BreakGlassDialog.tsx';
import { ExamsPane, FollowUpsPane, ImmunizationsPane, MedicationsPane } from './record/ListPanes.tsx';
import { LabsPane } from './record/LabsPane.tsx';
import { RecordHeader } from './record/RecordHeader.tsx';
import { SummaryPane } from './record/SummaryPane.tsx';
import { TimelinePane } from './record/TimelinePane.tsx';

type Tab = 'summary' | 'timeline' | 'labs' | 'exams' | 'medications' | 'immunizations' | 'followUps';
const TABS: Tab[] = ['summary', 'timeline', 'labs', 'exams', 'medications', 'immunizations', 'followUps'];

function count(s: RecordSummary, tab: Tab): number | undefined {
  switch (tab) {
    case 'summary': return undefined;
    case 'timeline': return s.encounters.length;
    case 'labs': return s.labs.length;
    case 'exams': return s.exams.length;
    case 'medications': return s.medications.length;
    case 'immunizations': return s.immunizations.length;
    case 'followUps': return s.followUps.length;
  }
}

export function RecordPage({ api, personId, initialTab }: { api: Api; personId: string; initialTab?: Tab }) {
  const { t } = useI18n();
  const [state, reload, setData] = useAsync(() => api.summary(personId), [api, personId]);
  const [tab, setTab] = useState<Tab>(initialTab ?? 'summary');
  const [lab, setLab] = useState<string>();
  const [btgError, setBtgError] = useState<string>();
  const [dismissed, setDismissed] = useState(false);

  if (state.status === 'loading') return <Loading />;
  if (state.status === 'error') {
    const err = state.error;
    if (err instanceof ApiError && err.status === 403) {
      const canBreakGlass = offersBreakGlass(err.status, err.code);
      return (
        <div className="page">
          <div className="refusal card">
            <div className="refusal-icon" aria-hidden>!</div>
            <div>
              <h1>{canBreakGlass ? t('btg.title') : t('refused.title')}</h1>
              <p>{canBreakGlass ? t('btg.message') : err.message || t('refused.generic')}</p>
              {canBreakGlass && (
                <button className="btn btn-danger" onClick={() => setDismissed(false)}>{t('btg.start')}</button>
              )}
            </div>
          </div>
          {canBreakGlass && !dismissed && (
            <BreakGlassDialog
              error={btgError}
              onCancel={() => setDismissed(true)}
              onConfirm={(reason) => {
                setBtgError(undefined);
                api.breakGlass(personId, reason).then(setData, (e: unknown) => setBtgError(errorMessage(e)));
              }}
            />
          )}
        </div>
      );
    }
    return <ErrorBox message={errorMessage(err)} onRetry={reload} />;
  }

  const s = state.data;
  return (
    <div className="page record-page">
      <RecordHeader summary={s} />
      <div className="tabs" role="tablist">
        {TABS.map((x) => {
          const n = count(s, x);
          return (
            <button key={x} role="tab" aria-selected={tab === x} className={tab === x ? 'tab active' : 'tab'} onClick={() => setTab(x)}>
              {t(`tab.${x}` as MessageKey)}{n !== undefined && <span className="tab-count">{n}</span>}
            </button>
          );
        })}
        <span className="tabs-right muted small">{t('record.generated', { time: formatDateTime(s.generated) })}</span>
      </div>
      <div className="tab-body">
        {tab === 'summary' && <SummaryPane summary={s} onOpenLab={(code) => { setLab(code); setTab('labs'); }} />}
        {tab === 'timeline' && <TimelinePane encounters={s.encounters} />}
        {tab === 'labs' && <LabsPane labs={s.labs} selected={lab} onSelect={setLab} />}
        {tab === 'exams' && <ExamsPane exams={s.exams} />}
        {tab === 'medications' && <MedicationsPane medications={s.medications} />}
        {tab === 'immunizations' && <ImmunizationsPane immunizations={s.immunizations} />}
        {tab === 'followUps' && <FollowUpsPane followUps={s.followUps} />}
      </div>
    </div>
  );
}
