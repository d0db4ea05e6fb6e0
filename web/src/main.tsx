import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { createApi } from './api/client.ts';
import { I18nProvider } from './i18n/I18nProvider.tsx';
import { loadSession } from './lib/session.ts';
import './styles.css';

const initialSession = loadSession(sessionStorage);
const { api, fixtures } = await createApi(() => loadSession(sessionStorage)?.token);
document.documentElement.lang = localStorage.getItem('healthbrain.lang') === 'en' ? 'en' : 'zh-CN';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nProvider>
      <App api={api} fixtures={fixtures} initialSession={initialSession} />
    </I18nProvider>
  </StrictMode>,
);
