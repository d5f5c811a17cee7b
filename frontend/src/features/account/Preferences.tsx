import { useEffect, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { UpdatePreferencesDocument, UpdateProfileDocument, ViewerAccountDocument, type Theme } from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { applyTheme, useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, Loading, PageHeader, SelectField, TimeZoneList } from '../../ui';
import { SettingsNav } from './SettingsNav';

const LANGUAGES = [
  ['', 'Browser default'],
  ['en', 'English'],
  ['en-GB', 'English (United Kingdom)'],
  ['de', 'Deutsch'],
  ['fr', 'Français'],
  ['es', 'Español'],
  ['it', 'Italiano'],
  ['nl', 'Nederlands'],
  ['pt', 'Português'],
  ['ja', '日本語'],
];

export default function Preferences() {
  useDocumentTitle('Preferences');
  const [res] = useQuery({ query: ViewerAccountDocument });
  const v = res.data?.viewer;
  const [theme, setTheme] = useState<Theme>('SYSTEM');
  const [language, setLanguage] = useState('');
  const [timeZone, setTimeZone] = useState('');
  useEffect(() => {
    if (!v) return;
    setTheme(v.preferences.theme);
    setLanguage(v.preferences.language ?? '');
    setTimeZone(v.timeZone ?? '');
  }, [v?.id]); // eslint-disable-line react-hooks/exhaustive-deps
  const [prefRes, updatePrefs] = useMutation(UpdatePreferencesDocument);
  const [profRes, updateProfile] = useMutation(UpdateProfileDocument);
  const [saved, setSaved] = useState(false);
  const errs = { ...fieldErrors(profRes.error), ...fieldErrors(prefRes.error) };

  async function chooseTheme(t: Theme) {
    setTheme(t);
    applyTheme(t); // at once; saved below
    setSaved(false);
    await updatePrefs({ input: { theme: t } });
  }

  async function save() {
    setSaved(false);
    const a = await updatePrefs({ input: { theme, language: language || null } });
    if (a.error) return;
    if ((v?.timeZone ?? '') !== timeZone) {
      const b = await updateProfile({ input: { timeZone: timeZone || null } });
      if (b.error) return;
    }
    setSaved(true);
  }

  const LANG = LANGUAGES.some(([code]) => code === language) ? LANGUAGES : [...LANGUAGES, [language, language]];
  return (
    <section className="page narrow">
      <PageHeader title="Settings" />
      <SettingsNav />
      {res.error && !v && <Alert>{errorMessage(res.error)}</Alert>}
      {!v ? (
        <Loading />
      ) : (
        <form
          className="card"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <h2>Preferences</h2>
          <fieldset className="choice">
            <legend>Theme</legend>
            {(['LIGHT', 'DARK', 'SYSTEM'] as Theme[]).map((t) => (
              <label key={t}>
                <input type="radio" name="theme" value={t} checked={theme === t} onChange={() => chooseTheme(t)} />{' '}
                {t === 'LIGHT' ? 'Light' : t === 'DARK' ? 'Dark' : 'Same as the system'}
              </label>
            ))}
          </fieldset>
          <SelectField label="Language" value={language} onChange={(e) => setLanguage(e.target.value)} error={errs.language}>
            {LANG.map(([code, label]) => (
              <option key={code} value={code}>
                {label}
              </option>
            ))}
          </SelectField>
          <Field label="Time zone" placeholder="Europe/Berlin" list="time-zones" value={timeZone} onChange={(e) => setTimeZone(e.target.value)} error={errs.timeZone} />
          <TimeZoneList />
          <Alert>{errs['']}</Alert>
          {saved && <Alert kind="success">Preferences saved.</Alert>}
          <Button type="submit" busy={prefRes.fetching || profRes.fetching} busyLabel="Saving…">
            Save preferences
          </Button>
        </form>
      )}
    </section>
  );
}
