// Your data: ask for an export (mailed when ready, downloadable here for seven days) and delete
// your account (30 days to change your mind).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  CancelAccountDeletionDocument,
  RequestDataExportDocument,
  ScheduleAccountDeletionDocument,
  ViewerPrivacyDocument,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, Loading, PageHeader, formatDate } from '../../ui';
import { SettingsNav } from '../account/SettingsNav';

const STATUS: Record<string, string> = { PENDING: 'Being prepared', READY: 'Ready', FAILED: 'Failed', EXPIRED: 'Expired' };

export default function Privacy() {
  useDocumentTitle('Privacy');
  const [res, refetch] = useQuery({ query: ViewerPrivacyDocument, requestPolicy: 'cache-and-network' });
  const [exp, requestExport] = useMutation(RequestDataExportDocument);
  const [del, schedule] = useMutation(ScheduleAccountDeletionDocument);
  const [cancelRes, cancel] = useMutation(CancelAccountDeletionDocument);
  const [confirmEmail, setConfirmEmail] = useState('');
  const [password, setPassword] = useState('');
  const v = res.data?.viewer;
  const errs = fieldErrors(del.error);

  async function exportData() {
    const r = await requestExport({ input: null });
    if (!r.error) refetch({ requestPolicy: 'network-only' });
  }

  async function deleteAccount(e: FormEvent) {
    e.preventDefault();
    const r = await schedule({ input: { confirmEmail, password: password || null } });
    if (!r.error) {
      setPassword('');
      refetch({ requestPolicy: 'network-only' });
    }
  }

  async function keep() {
    const r = await cancel({});
    if (!r.error) refetch({ requestPolicy: 'network-only' });
  }

  return (
    <section className="page narrow">
      <PageHeader title="Settings" />
      <SettingsNav />
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {!v && <Loading />}
      {v && (
        <>
          <section className="card" aria-labelledby="export-title">
            <h2 id="export-title">Your data</h2>
            <p>Get a copy of everything Zygo keeps about you, as a ZIP of JSON files. We mail you a link when it is ready; it works for seven days.</p>
            {exp.error && <Alert>{errorMessage(exp.error)}</Alert>}
            <Button onClick={exportData} busy={exp.fetching}>
              Export my data
            </Button>
            {v.dataExports.length > 0 && (
              <table className="table" aria-label="Data exports">
                <thead>
                  <tr>
                    <th scope="col">Asked</th>
                    <th scope="col">Status</th>
                    <th scope="col">Download</th>
                  </tr>
                </thead>
                <tbody>
                  {v.dataExports.map((x) => (
                    <tr key={x.id}>
                      <td>{formatDate(x.requestedAt)}</td>
                      <td>{STATUS[x.status] ?? x.status}</td>
                      <td>
                        {x.downloadUrl ? (
                          <a href={x.downloadUrl}>Download ({Math.ceil((x.sizeBytes ?? 0) / 1024)} KiB)</a>
                        ) : (
                          '—'
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section className="card" aria-labelledby="delete-title">
            <h2 id="delete-title">Delete your account</h2>
            {v.accountDeletionScheduledAt ? (
              <>
                <Alert kind="warning">Your account will be deleted on {formatDate(v.accountDeletionScheduledAt, false)}.</Alert>
                {cancelRes.error && <Alert>{errorMessage(cancelRes.error)}</Alert>}
                <Button onClick={keep} busy={cancelRes.fetching}>
                  Keep my account
                </Button>
              </>
            ) : (
              <form onSubmit={deleteAccount} noValidate aria-label="Delete account">
                <p>
                  Your account is deleted 30 days after you ask; until then you can change your mind here. Your personal data is then deleted or
                  anonymised. If you are the only owner of an organisation, make someone else owner first.
                </p>
                {errs[''] && <Alert>{errs['']}</Alert>}
                <Field label="Type your e-mail address" value={confirmEmail} onChange={(e) => setConfirmEmail(e.target.value)} error={errs['input.confirmEmail'] ?? errs.confirmEmail} />
                <Field label="Password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={errs['input.password'] ?? errs.password} />
                <Button type="submit" variant="danger" busy={del.fetching}>
                  Delete my account
                </Button>
              </form>
            )}
          </section>
        </>
      )}
    </section>
  );
}
