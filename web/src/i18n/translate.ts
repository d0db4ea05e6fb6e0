import { en } from './en.ts';
import { zh } from './zh.ts';

export type Lang = 'zh' | 'en';
export type MessageKey = keyof typeof zh;

export const dictionaries: Record<Lang, Record<MessageKey, string>> = { zh, en };

/** The message for `key` in `lang`, with `{name}` placeholders filled from `vars`. */
export function translate(lang: Lang, key: MessageKey, vars?: Record<string, string | number>): string {
  const template = dictionaries[lang][key] ?? dictionaries.zh[key] ?? key;
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** Whether a string is a known message key (for keys built from data, e.g. `status.${code}`). */
export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(zh, key);
}
