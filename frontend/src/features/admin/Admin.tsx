// The platform operators' console (holders of a platform role, with two-factor sign-in):
// organisations with search and status, suspended and reactivated with a written reason
// (super administrators); users; the job dashboard (queues by kind and state, failed jobs
// retried or cancelled); platform statistics with a chart. Support reads only: the API
// refuses their changes.
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import {
  AdminCancelJobDocument,
  AdminCreateOrganisationDocument,
  AdminFailedJobsDocument,
  AdminJobQueuesDocument,
  AdminOrganisationsDocument,
  AdminOverviewDocument,
  AdminReactivateTenantDocument,
  AdminRetryJobDocument,
  AdminStatisticsDocument,
  AdminSetOrganisationLimitsDocument,
  AdminSuspendTenantDocument,
  AdminUsersDocument,
  type AdminOrganisationsQuery,
  type Limit,
  type OrganisationStatus,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Empty, Field, formatDate, Loading, PageHeader, SelectField } from '../../ui';
import './admin.css';

type Organisation = AdminOrganisationsQuery['admin']['organisations']['edges'][number]['node'];

const TABS = [
  ['organisations', 'Organisations'],
  ['users', 'Users'],
  ['jobs', 'Jobs'],
  ['statistics', 'Statistics'],
] as const;

export default function Admin() {
  useDocumentTitle('Platform console');
  const [params, setParams] = useSearchParams();
  const [me] = useQuery({ query: AdminOverviewDocument });
  const tab = TABS.find(([k]) => k === params.get('tab'))?.[0] ?? 'organisations';
  if (me.error && !me.data) {
    return (
      <section className="page">
        <PageHeader title="Platform console" />
        <Alert>{errorMessage(me.error)}</Alert>
      </section>
    );
  }
  if (!me.data) return <Loading label="Loading the console…" />;
  const superAdmin = me.data.admin.role === 'SUPER_ADMIN';
  return (
    <section className="page">
      <PageHeader title="Platform console">
        <Link to="/admin/flags">Feature flags</Link> <Link to="/admin/support">Support sessions</Link>{' '}
        <Link to="/admin/collection">Collection catalog</Link>
      </PageHeader>
      <nav className="tabs" aria-label="Console">
        {TABS.map(([key, label]) => (
          <button key={key} type="button" role="tab" aria-selected={tab === key} className={tab === key ? 'tab active' : 'tab'} onClick={() => setParams({ tab: key })}>
            {label}
          </button>
        ))}
      </nav>
      {tab === 'organisations' && <Organisations superAdmin={superAdmin} />}
      {tab === 'users' && <Users />}
      {tab === 'jobs' && <Jobs superAdmin={superAdmin} />}
      {tab === 'statistics' && <Statistics />}
    </section>
  );
}

function Organisations({ superAdmin }: { superAdmin: boolean }) {
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<OrganisationStatus | ''>('');
  const [res, reexecute] = useQuery({
    query: AdminOrganisationsDocument,
    variables: { search: search || null, status: status || null, first: 50 },
  });
  const orgs = res.data?.admin.organisations;
  return (
    <div className="card">
      <h2>Organisations</h2>
      <div className="row">
        <Field label="Search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name or slug" />
        <SelectField label="Status" value={status} onChange={(e) => setStatus(e.target.value as OrganisationStatus | '')}>
          <option value="">Any</option>
          <option value="ACTIVE">Active</option>
          <option value="SUSPENDED">Suspended</option>
        </SelectField>
      </div>
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {!orgs ? (
        <Loading label="Loading organisations…" />
      ) : orgs.edges.length === 0 ? (
        <Empty>No organisation matches.</Empty>
      ) : (
        <table className="table" aria-label="Organisations">
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>Plan</th>
              <th>Members</th>
              <th>Executions</th>
              <th>Last activity</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {orgs.edges.map(({ node }) => (
              <OrganisationRow key={node.id} org={node} superAdmin={superAdmin} onChanged={() => reexecute({ requestPolicy: 'network-only' })} />
            ))}
          </tbody>
        </table>
      )}
      {orgs && <p className="muted">{orgs.totalCount} organisation(s)</p>}
      {superAdmin && <CreateOrganisation onCreated={() => reexecute({ requestPolicy: 'network-only' })} />}
    </div>
  );
}

/** An organisation for a customer, its first owner invited by e-mail. */
function CreateOrganisation({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [ownerEmail, setOwnerEmail] = useState('');
  const [reason, setReason] = useState('');
  const [res, create] = useMutation(AdminCreateOrganisationDocument);
  const [done, setDone] = useState<string | null>(null);
  const errors = fieldErrors(res.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await create({ input: { name, slug, ownerEmail, reason } });
    if (r.data) {
      setDone(`${r.data.adminCreateOrganisation.organisation.name} was created; ${r.data.adminCreateOrganisation.invitedEmail} is invited as its owner.`);
      setName('');
      setSlug('');
      setOwnerEmail('');
      setReason('');
      onCreated();
    }
  };
  return (
    <form aria-label="Create an organisation" onSubmit={submit}>
      <h3>Create an organisation for a customer</h3>
      <div className="row">
        <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} required />
        <Field label="Slug" value={slug} onChange={(e) => setSlug(e.target.value)} error={errors.slug} required />
        <Field label="Owner's e-mail" type="email" value={ownerEmail} onChange={(e) => setOwnerEmail(e.target.value)} error={errors.ownerEmail} required />
      </div>
      <Field label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} error={errors.reason} required maxLength={500} />
      {errors[''] && <Alert>{errors['']}</Alert>}
      {done && <Alert kind="success">{done}</Alert>}
      <Button type="submit" busy={res.fetching}>
        Create and invite
      </Button>
    </form>
  );
}

function OrganisationRow({ org, superAdmin, onChanged }: { org: Organisation; superAdmin: boolean; onChanged: () => void }) {
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [suspendRes, suspend] = useMutation(AdminSuspendTenantDocument);
  const [reactivateRes, reactivate] = useMutation(AdminReactivateTenantDocument);
  const suspended = org.status === 'SUSPENDED';
  const res = suspended ? reactivateRes : suspendRes;
  const errors = fieldErrors(res.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = suspended ? await reactivate({ id: org.id, reason }) : await suspend({ id: org.id, reason });
    if (!r.error) {
      setAsking(false);
      setReason('');
      onChanged();
    }
  };
  return (
    <tr>
      <th scope="row">
        {org.name} <span className="muted">{org.slug}</span>
      </th>
      <td>
        <span className={`status status-${org.status.toLowerCase()}`}>{org.status.toLowerCase()}</span>
      </td>
      <td>
        {org.plan}
        {org.limitOverrides.length > 0 && (
          <div className="muted" title="Limits set by an operator over the plan's">
            {org.limitOverrides.map((o) => `${o.limit.toLowerCase().replace(/_/g, ' ')}: ${o.value ?? 'no limit'}`).join(', ')}
          </div>
        )}
      </td>
      <td>{org.memberCount}</td>
      <td>{org.workflowExecutions}</td>
      <td>{formatDate(org.lastActivity)}</td>
      <td>
        {superAdmin && !asking && (
          <Button variant="secondary" onClick={() => setAsking(true)}>
            {suspended ? 'Reactivate' : 'Suspend'}
          </Button>
        )}
        {superAdmin && !asking && <LimitsEditor org={org} onChanged={onChanged} />}
        {asking && (
          <form className="row" aria-label={`${suspended ? 'Reactivate' : 'Suspend'} ${org.name}`} onSubmit={submit}>
            <Field label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} error={errors.reason} required maxLength={500} />
            <Button type="submit" variant={suspended ? 'primary' : 'danger'} busy={res.fetching}>
              {suspended ? 'Reactivate' : 'Suspend'} {org.name}
            </Button>
            <Button variant="ghost" onClick={() => setAsking(false)}>
              Cancel
            </Button>
            {errors[''] && <Alert>{errors['']}</Alert>}
          </form>
        )}
      </td>
    </tr>
  );
}

const LIMITS: Limit[] = ['MEMBERS', 'TEAMS', 'WORKFLOWS', 'EXECUTIONS_PER_MONTH', 'API_OPERATIONS_PER_MONTH', 'STORAGE_BYTES', 'COLLECTED_RECORDS_PER_MONTH', 'SERVERS', 'OUTBOUND_MAILS_PER_DAY', 'CLOUD_PROVIDERS'];

/** An organisation's own limits over its plan's: blank follows the plan, "none" is no limit. */
function LimitsEditor({ org, onChanged }: { org: Organisation; onChanged: () => void }) {
  const [open, setOpen] = useState(false);
  const initial = Object.fromEntries(org.limitOverrides.map((o) => [o.limit, o.value == null ? 'none' : String(o.value)]));
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [reason, setReason] = useState('');
  const [res, save] = useMutation(AdminSetOrganisationLimitsDocument);
  const errors = fieldErrors(res.error);
  if (!open) {
    return (
      <Button variant="ghost" onClick={() => setOpen(true)}>
        Limits
      </Button>
    );
  }
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const limits = LIMITS.filter((l) => (values[l] ?? '').trim() !== '').map((l) =>
      values[l].trim() === 'none' ? { limit: l, unlimited: true } : { limit: l, value: Number(values[l]) },
    );
    const r = await save({ input: { id: org.id, limits, reason } });
    if (!r.error) {
      setOpen(false);
      onChanged();
    }
  };
  return (
    <form aria-label={`Limits of ${org.name}`} onSubmit={submit}>
      <p className="muted">Blank: the plan's. A number, or "none" for no limit.</p>
      <div className="row">
        {LIMITS.map((l) => (
          <Field key={l} label={l.toLowerCase().replace(/_/g, ' ')} value={values[l] ?? ''} onChange={(e) => setValues({ ...values, [l]: e.target.value })} size={8} />
        ))}
      </div>
      <Field label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} error={errors.reason} required maxLength={500} />
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      <Button type="submit" busy={res.fetching}>
        Save limits
      </Button>
      <Button variant="ghost" onClick={() => setOpen(false)}>
        Cancel
      </Button>
    </form>
  );
}

function Users() {
  const [search, setSearch] = useState('');
  const [res] = useQuery({ query: AdminUsersDocument, variables: { search: search || null, first: 50 } });
  const users = res.data?.admin.users;
  return (
    <div className="card">
      <h2>Users</h2>
      <Field label="Search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name or e-mail" />
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {!users ? (
        <Loading label="Loading users…" />
      ) : (
        <table className="table" aria-label="Users">
          <thead>
            <tr>
              <th>Name</th>
              <th>E-mail</th>
              <th>Verified</th>
              <th>Two-factor</th>
              <th>Platform role</th>
              <th>Organisations</th>
              <th>Joined</th>
            </tr>
          </thead>
          <tbody>
            {users.edges.map(({ node: u }) => (
              <tr key={u.id}>
                <th scope="row">{u.name}</th>
                <td>{u.email}</td>
                <td>{u.emailVerified ? 'yes' : 'no'}</td>
                <td>{u.mfaEnabled ? 'on' : 'off'}</td>
                <td>{u.platformRole?.toLowerCase().replace('_', ' ') ?? '—'}</td>
                <td>{u.organisationCount}</td>
                <td>{formatDate(u.createdAt, false)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Jobs({ superAdmin }: { superAdmin: boolean }) {
  const [queues, reloadQueues] = useQuery({ query: AdminJobQueuesDocument, requestPolicy: 'cache-and-network' });
  const [failed, reloadFailed] = useQuery({ query: AdminFailedJobsDocument, variables: { first: 50 }, requestPolicy: 'cache-and-network' });
  const [retryRes, retry] = useMutation(AdminRetryJobDocument);
  const [cancelRes, cancel] = useMutation(AdminCancelJobDocument);
  const reload = () => {
    reloadQueues({ requestPolicy: 'network-only' });
    reloadFailed({ requestPolicy: 'network-only' });
  };
  const error = queues.error ?? failed.error ?? retryRes.error ?? cancelRes.error;
  return (
    <>
      <div className="card">
        <h2>Queues</h2>
        <Button variant="ghost" onClick={reload}>
          Refresh
        </Button>
        <table className="table" aria-label="Job queues">
          <thead>
            <tr>
              <th>Kind</th>
              <th>Queued</th>
              <th>Running</th>
              <th>Succeeded</th>
              <th>Failed</th>
              <th>Cancelled</th>
              <th>Oldest waiting</th>
            </tr>
          </thead>
          <tbody>
            {(queues.data?.admin.jobQueues ?? []).map((q) => (
              <tr key={q.kind}>
                <th scope="row">{q.kind}</th>
                <td>{q.queued}</td>
                <td>{q.running}</td>
                <td>{q.succeeded}</td>
                <td>{q.failed}</td>
                <td>{q.cancelled}</td>
                <td>{formatDate(q.oldestWaiting)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="card">
        <h2>Failed jobs</h2>
        {error && <Alert>{errorMessage(error)}</Alert>}
        {(failed.data?.admin.failedJobs.edges ?? []).length === 0 ? (
          <Empty>No failed jobs.</Empty>
        ) : (
          <table className="table" aria-label="Failed jobs">
            <thead>
              <tr>
                <th>Kind</th>
                <th>Attempts</th>
                <th>Error</th>
                <th>Finished</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {failed.data?.admin.failedJobs.edges.map(({ node: j }) => (
                <tr key={j.id}>
                  <th scope="row">{j.kind}</th>
                  <td>
                    {j.attempts}/{j.maxAttempts}
                  </td>
                  <td className="mono">{j.lastError}</td>
                  <td>{formatDate(j.finishedAt)}</td>
                  <td className="actions">
                    {superAdmin && (
                      <>
                        <Button variant="secondary" busy={retryRes.fetching} onClick={async () => (await retry({ id: j.id })).error || reload()}>
                          Retry
                        </Button>
                        <Button variant="ghost" busy={cancelRes.fetching} onClick={async () => (await cancel({ id: j.id })).error || reload()}>
                          Cancel
                        </Button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}

function Statistics() {
  const [days, setDays] = useState(30);
  const [res] = useQuery({ query: AdminStatisticsDocument, variables: { days } });
  const s = res.data?.admin.statistics;
  if (res.error) return <Alert>{errorMessage(res.error)}</Alert>;
  if (!s) return <Loading label="Loading statistics…" />;
  const max = Math.max(1, ...s.buckets.map((b) => b.organisationsCreated + b.usersCreated));
  return (
    <>
      <div className="card">
        <h2>Platform</h2>
        <SelectField label="Window" value={days} onChange={(e) => setDays(Number(e.target.value))}>
          <option value={7}>7 days</option>
          <option value={30}>30 days</option>
          <option value={90}>90 days</option>
        </SelectField>
        <dl className="figures">
          <div><dt>Organisations</dt><dd>{s.organisations}</dd></div>
          <div><dt>Active organisations</dt><dd>{s.activeOrganisations}</dd></div>
          <div><dt>Users</dt><dd>{s.users}</dd></div>
          <div><dt>Active users</dt><dd>{s.activeUsers}</dd></div>
          <div><dt>Executions</dt><dd>{s.executions}</dd></div>
          <div><dt>Collected records</dt><dd>{s.collectedRecords}</dd></div>
        </dl>
      </div>
      <div className="card">
        <h2>New organisations and users</h2>
        <svg className="bars" viewBox={`0 0 ${s.buckets.length * 12} 60`} role="img" aria-label="New organisations and users per day">
          {s.buckets.map((b, i) => {
            const h = ((b.organisationsCreated + b.usersCreated) / max) * 58;
            return (
              <rect key={b.from} x={i * 12 + 1} y={60 - h} width={10} height={h}>
                <title>{`${b.from}: ${b.organisationsCreated} organisation(s), ${b.usersCreated} user(s)`}</title>
              </rect>
            );
          })}
        </svg>
      </div>
      <div className="card">
        <h2>By plan</h2>
        <table className="table" aria-label="Organisations by plan">
          <thead>
            <tr>
              <th>Plan</th>
              <th>Organisations</th>
            </tr>
          </thead>
          <tbody>
            {s.organisationsByPlan.map((p) => (
              <tr key={p.plan}>
                <th scope="row">{p.plan}</th>
                <td>{p.organisations}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
