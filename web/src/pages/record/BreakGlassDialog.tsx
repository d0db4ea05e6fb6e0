import { type FormEvent, useState } from 'react';
import { useI18n } from '../../i18n/I18nProvider.tsx';

/** The break-the-glass dialog: shown only for a 403 "no care relationship"; a reason is required. */
export function BreakGlassDialog({ onConfirm, onCancel, error }: { onConfirm(reason: string): void; onCancel(): void; error?: string }) {
  const { t } = useI18n();
  const [reason, setReason] = useState('');
  const [touched, setTouched] = useState(false);
  const missing = reason.trim().length === 0;
  function submit(e: FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (!missing) onConfirm(reason.trim());
  }
  return (
    <div className="modal-backdrop">
      <form className="modal" role="dialog" aria-modal="true" aria-labelledby="btg-title" onSubmit={submit}>
        <div className="modal-head warn">
          <span className="modal-icon">⚠</span>
          <h2 id="btg-title">{t('btg.title')}</h2>
        </div>
        <div className="modal-body">
          <p>{t('btg.message')}</p>
          <p className="muted">{t('btg.explain')}</p>
          <label className="field">
            <span className="field-label">{t('btg.reason')}</span>
            <textarea name="reason" rows={3} value={reason} onChange={(e) => setReason(e.target.value)} placeholder={t('btg.reasonPlaceholder')} autoFocus />
          </label>
          {touched && missing && <div className="field-error">{t('btg.reasonRequired')}</div>}
          {error && <div className="alert alert-error">{error}</div>}
        </div>
        <div className="modal-foot">
          <button type="button" className="btn" onClick={onCancel}>{t('btg.cancel')}</button>
          <button className="btn btn-danger">{t('btg.confirm')}</button>
        </div>
      </form>
    </div>
  );
}
