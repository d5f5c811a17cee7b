// Light/dark theme applied as `data-theme` on <html>; remembered locally so the first paint
// already has it, and taken from the viewer's preferences once they load.
import { useEffect } from 'react';

export type ThemeChoice = 'LIGHT' | 'DARK' | 'SYSTEM';
const KEY = 'zygo.theme';

export function applyTheme(choice: ThemeChoice) {
  localStorage.setItem(KEY, choice);
  const dark =
    choice === 'DARK' ||
    (choice === 'SYSTEM' && typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

export function initTheme() {
  const stored = () => (localStorage.getItem(KEY) as ThemeChoice | null) ?? 'SYSTEM';
  applyTheme(stored());
  // "Same as the system" follows the system when it changes.
  if (typeof matchMedia === 'function') {
    matchMedia('(prefers-color-scheme: dark)').addEventListener?.('change', () => {
      if (stored() === 'SYSTEM') applyTheme('SYSTEM');
    });
  }
}

export function useDocumentTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · Zygo` : 'Zygo';
  }, [title]);
}
