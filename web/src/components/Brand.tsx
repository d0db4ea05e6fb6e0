import { useI18n } from '../i18n/I18nProvider.tsx';

/** The product mark and name, in the sidebar and (larger) on the sign-in page. */
export function Brand({ big = false }: { big?: boolean }) {
  const { t } = useI18n();
  return (
    <div className={big ? 'brand big' : 'brand'}>
      <div className="brand-mark">✚</div>
      <div>
        <div className="brand-name">{t('app.name')}</div>
        <div className="brand-sub">{t('app.subtitle')}</div>
      </div>
    </div>
  );
}
