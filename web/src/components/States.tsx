import { useI18n } from '../i18n/I18nProvider.tsx';

export function Loading() {
  const { t } = useI18n();
  return <div className="state state-loading"><span className="spinner" />{t('state.loading')}</div>;
}

export function ErrorBox({ message, onRetry }: { message: string; onRetry?: () => void }) {
  const { t } = useI18n();
  return (
    <div className="state state-error" role="alert">
      {t('state.error', { message })}
      {onRetry && <button className="btn btn-small" onClick={onRetry}>{t('state.retry')}</button>}
    </div>
  );
}

export function Empty() {
  const { t } = useI18n();
  return <div className="state state-empty">{t('pane.empty')}</div>;
}
