import { createContext, type ReactNode, useContext, useEffect, useMemo, useState } from 'react';
import { isMessageKey, type Lang, type MessageKey, translate } from './translate.ts';

interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  t(key: MessageKey, vars?: Record<string, string | number>): string;
  /** For keys built from data (`status.${code}`): the message if the key exists, else the fallback. */
  tx(key: string, fallback: string): string;
}

const Ctx = createContext<I18n | null>(null);
const STORAGE_KEY = 'healthbrain.lang';

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() => (localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh'));
  const value = useMemo<I18n>(
    () => ({
      lang,
      setLang(next) {
        localStorage.setItem(STORAGE_KEY, next);
        document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
        setLangState(next);
      },
      t: (key, vars) => translate(lang, key, vars),
      tx: (key, fallback) => (isMessageKey(key) ? translate(lang, key) : fallback),
    }),
    [lang],
  );
  useEffect(() => {
    document.title = `${translate(lang, 'app.name')} · ${translate(lang, 'app.subtitle')}`;
  }, [lang]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useI18n(): I18n {
  const v = useContext(Ctx);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}
