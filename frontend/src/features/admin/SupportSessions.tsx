// Developer mode from the console: a platform operator starts a time-limited support session
// into one organisation with a written reason (optionally read-only), sees every session
// (pending, live, ended, denied, expired) and ends one. While a session is live the banner
// across the app (shell/SupportBanner) shows it with an exit button.
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useClient, useMutation, useQuery } from 'urql';
import {
  AdminEndSupportSessionDocument,
  AdminOrganisationsDocument,
  AdminStartSupportSessionDocument,
  AdminSupportSessionsDocument,
  ViewerSupportSessionsDocument,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Empty, Field, formatDate, Loading, PageHeader, SelectField, TextAreaField } from '../../ui';
import './admin.css';

export const STATUS_LABEL: Record<string, string> = {
  PENDING_APPROVAL: 'Waiting for approval',
  ACTIVE: 'Active',
  ENDED: 'Ended',
  DENIED: 'Denied',
  EXPIRED: 'Expired',
};

export default function SupportSessions() {
  useDocumentTitle('Support sessions');
  const [search, setSearch] = useState('');
  const [orgs] = useQuery({ query: AdminOrganisationsDocument, variables: { search: search || null, first: 20 } });
  const [list, refetch] = useQuery({ query: AdminSupportSessionsDocument, variables: { openOnly: false }, requestPolicy: 'cache-and-network' });
  const [startRes, start] = useMutation(AdminStartSupportSessionDocument);
  const [endRes, end] = useMutation(AdminEndSupportSessionDocument);
  const [tenantId, setTenantId] = useState('');
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState('60');
  const [readOnly, setReadOnly] = useState(true);
  const errors = fieldErrors(startRes.error);
  const client = useClient();
  // The banner reads the viewer's sessions: fetched again so it appears (or goes) at once.
  const refreshBanner = () => client.query(ViewerSupportSessionsDocument, {}, { requestPolicy: 'network-only' }).toPromise();
  const options = orgs.data?.admin.organisations.edges.map((e) => e.node) ?? [];

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await start({ input: { tenantId, reason, minutes: Number(minutes), readOnly } });
    if (!r.error) {
      setReason('');
      refetch({ requestPolicy: 'network-only' });
      await refreshBanner();
    }
  }

  return (
    <section className="page">
      <PageHeader title="Support sessions">
        <Link to="/admin">Console</Link>
      </PageHeader>
      <p className="muted">
        A support session lets you act in one organisation for a limited time. Its owners see it in their audit log, may have to approve it first, and can end it at
        any time; every request you make in it is audited.
      </p>
      <form className="card" onSubmit={submit} aria-labelledby="start-support-title">
        <h2 id="start-support-title">Enter an organisation</h2>
        <Field label="Find an organisation" placeholder="Name or slug" value={search} onChange={(e) => setSearch(e.target.value)} />
        <SelectField label="Organisation" value={tenantId} onChange={(e) => setTenantId(e.target.value)} error={errors['input.tenantId']} required>
          <option value="">Choose…</option>
          {options.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name} ({o.slug})
            </option>
          ))}
        </SelectField>
        <TextAreaField label="Reason" hint="A ticket number and what you will look at (shown to the owners)" value={reason} onChange={(e) => setReason(e.target.value)} error={errors['input.reason']} required />
        <Field label="Minutes" type="number" min={1} max={480} value={minutes} onChange={(e) => setMinutes(e.target.value)} error={errors['input.minutes']} />
        <label className="checkbox">
          <input type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.target.checked)} /> Read-only (nothing can be changed)
        </label>
        {errors[''] && <Alert>{errors['']}</Alert>}
        {startRes.data && (
          <Alert kind="success">
            {startRes.data.adminStartSupportSession.session.status === 'ACTIVE' ? (
              <>
                Session active until {formatDate(startRes.data.adminStartSupportSession.session.expiresAt)}:{' '}
                <Link to={`/o/${startRes.data.adminStartSupportSession.session.tenantSlug}`}>open the organisation</Link>
              </>
            ) : (
              'Waiting for an owner of the organisation to approve it.'
            )}
          </Alert>
        )}
        <Button type="submit" busy={startRes.fetching} disabled={!tenantId}>
          Start session
        </Button>
      </form>
      {endRes.error && <Alert>{errorMessage(endRes.error)}</Alert>}
      {list.error && <Alert>{errorMessage(list.error)}</Alert>}
      {!list.data && !list.error && <Loading />}
      {list.data && list.data.admin.supportSessions.length === 0 && <Empty>No support session yet.</Empty>}
      {list.data && list.data.admin.supportSessions.length > 0 && (
        <table className="table" aria-label="Support sessions">
          <thead>
            <tr>
              <th scope="col">Organisation</th>
              <th scope="col">Operator</th>
              <th scope="col">Reason</th>
              <th scope="col">Status</th>
              <th scope="col">Until</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.data.admin.supportSessions.map((s) => (
              <tr key={s.id} data-support-session={s.tenantSlug}>
                <td>{s.tenantName}</td>
                <td>{s.operatorEmail}</td>
                <td>
                  {s.reason} {s.readOnly && <span className="badge">Read-only</span>}
                </td>
                <td>
                  <span className={s.status === 'ACTIVE' ? 'badge badge-success' : 'badge'}>{STATUS_LABEL[s.status] ?? s.status}</span>
                </td>
                <td>{s.expiresAt ? formatDate(s.expiresAt) : '—'}</td>
                <td>
                  {(s.status === 'ACTIVE' || s.status === 'PENDING_APPROVAL') && (
                    <Button variant="ghost" busy={endRes.fetching} onClick={() =>
                        void end({ id: s.id }).then(() => {
                          refetch({ requestPolicy: 'network-only' });
                          return refreshBanner();
                        })
                      }>
                      End
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
