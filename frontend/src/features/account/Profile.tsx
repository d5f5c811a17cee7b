import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { UpdateProfileDocument, ViewerAccountDocument } from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, Loading, PageHeader, TimeZoneList } from '../../ui';
import { SettingsNav } from './SettingsNav';

export default function Profile() {
  useDocumentTitle('Profile');
  const [res] = useQuery({ query: ViewerAccountDocument });
  const v = res.data?.viewer;
  const [form, setForm] = useState({ name: '', avatarUrl: '', locale: '', timeZone: '' });
  useEffect(() => {
    if (v) setForm({ name: v.name, avatarUrl: v.avatarUrl ?? '', locale: v.locale ?? '', timeZone: v.timeZone ?? '' });
  }, [v?.id]); // eslint-disable-line react-hooks/exhaustive-deps
  const [upd, update] = useMutation(UpdateProfileDocument);
  const [saved, setSaved] = useState(false);
  const errs = fieldErrors(upd.error);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => {
    setSaved(false);
    setForm({ ...form, [k]: e.target.value });
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await update({
      input: {
        name: form.name,
        avatarUrl: form.avatarUrl || null,
        locale: form.locale || null,
        timeZone: form.timeZone || null,
      },
    });
    if (r.data) setSaved(true);
  }

  return (
    <section className="page narrow">
      <PageHeader title="Settings" />
      <SettingsNav />
      {res.error && !v && <Alert>{errorMessage(res.error)}</Alert>}
      {!v ? (
        <Loading />
      ) : (
        <form className="card" onSubmit={submit} noValidate aria-labelledby="profile-title">
          <h2 id="profile-title">Profile</h2>
          <Field label="E-mail" value={v.email} readOnly hint="Your log-in name; it cannot be changed here." />
          <Field label="Name" value={form.name} onChange={set('name')} error={errs.name} required autoComplete="name" />
          <Field label="Avatar URL" type="url" placeholder="https://…" value={form.avatarUrl} onChange={set('avatarUrl')} error={errs.avatarUrl} />
          {form.avatarUrl && /^https?:\/\//.test(form.avatarUrl) && <img src={form.avatarUrl} alt="Avatar preview" className="logo-preview" />}
          <div className="row">
            <Field label="Locale" placeholder="en-GB" value={form.locale} onChange={set('locale')} error={errs.locale} />
            <Field label="Time zone" placeholder="Europe/Berlin" list="time-zones" value={form.timeZone} onChange={set('timeZone')} error={errs.timeZone} />
          </div>
          <TimeZoneList />
          <Alert>{errs['']}</Alert>
          {saved && <Alert kind="success">Profile saved.</Alert>}
          <Button type="submit" busy={upd.fetching} busyLabel="Saving…">
            Save profile
          </Button>
        </form>
      )}
    </section>
  );
}
