import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useQuery, useSubscription } from 'urql';
import { AuditLogAddedDocument, AuditLogPageDocument, type AuditLogFilter } from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { RequirePermission, useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, formatDate, PageHeader } from '../../ui';
import { ConnectionTable } from '../../ui/ConnectionTable';

interface Entry {
  id: string;
  action: string;
  actorType?: string;
  actorId?: string | null;
  actor?: { id: string; name: string } | null;
  targetType: string;
  targetId?: string | null;
  before?: unknown;
  after?: unknown;
  ip?: string | null;
  requestId?: string | null;
  createdAt: string;
}

const PAGE = 50;

export default function AuditLog() {
  const tenant = useTenant();
  useDocumentTitle(`Audit log · ${tenant.name}`);
  return (
    <section className="page">
      <PageHeader title="Audit log" />
      <RequirePermission permission="audit.read" fallback={<Alert>You cannot read this organisation's audit log.</Alert>}>
        <AuditLogView tenantId={tenant.id} />
      </RequirePermission>
    </section>
  );
}

function toFilter(f: { action: string; targetType: string; from: string; to: string }): AuditLogFilter | null {
  const out: AuditLogFilter = {};
  if (f.action.trim()) out.action = f.action.trim();
  if (f.targetType.trim()) out.targetType = f.targetType.trim();
  if (f.from) out.from = new Date(f.from).toISOString();
  if (f.to) out.to = new Date(f.to).toISOString();
  return Object.keys(out).length ? out : null;
}

function matches(e: Entry, f: AuditLogFilter | null) {
  if (!f) return true;
  if (f.action && e.action !== f.action) return false;
  if (f.targetType && e.targetType !== f.targetType) return false;
  if (f.from && e.createdAt < f.from) return false;
  if (f.to && e.createdAt >= f.to) return false;
  return true;
}

function AuditLogView({ tenantId }: { tenantId: string }) {
  const empty = { action: '', targetType: '', from: '', to: '' };
  const [draft, setDraft] = useState(empty);
  const [filter, setFilter] = useState<AuditLogFilter | null>(null);
  // The newest page, then older pages on demand.
  const [latest, reexecute] = useQuery({
    query: AuditLogPageDocument,
    variables: { id: tenantId, filter, last: PAGE, before: null },
    requestPolicy: 'cache-and-network',
  });
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [olderRes] = useQuery({
    query: AuditLogPageDocument,
    variables: { id: tenantId, filter, last: PAGE, before: olderCursor },
    pause: !olderCursor,
  });
  const [older, setOlder] = useState<{ entries: Entry[]; cursor: string | null; more: boolean }>({ entries: [], cursor: null, more: false });
  useEffect(() => {
    const c = olderRes.data?.tenant.auditLog;
    if (!olderCursor || !c) return;
    const entries = c.edges.map((e) => e.node as Entry).reverse();
    setOlder((o) => ({
      entries: [...o.entries, ...entries.filter((x) => !o.entries.some((y) => y.id === x.id))],
      cursor: c.pageInfo.startCursor ?? null,
      more: c.pageInfo.hasPreviousPage,
    }));
  }, [olderRes.data, olderCursor]);

  const [liveOn, setLiveOn] = useState(true);
  const [sub] = useSubscription(
    { query: AuditLogAddedDocument, variables: { tenantId }, pause: !liveOn },
    (prev: Entry[] | undefined, data) => [data.auditLogAdded as Entry, ...(prev ?? [])].slice(0, 200),
  );
  const live = sub.data ?? [];

  const conn = latest.data?.tenant.auditLog;
  const newest = useMemo(() => (conn?.edges.map((e) => e.node as Entry) ?? []).slice().reverse(), [conn]);

  const names = new Map<string, string>();
  for (const e of [...newest, ...older.entries]) if (e.actorId && e.actor) names.set(e.actorId, e.actor.name);

  const seen = new Set<string>();
  const rows: (Entry & { fresh?: boolean })[] = [];
  for (const e of newest) seen.add(e.id);
  for (const e of live) {
    if (!seen.has(e.id) && matches(e, filter)) {
      seen.add(e.id);
      rows.push({ ...e, fresh: true });
    }
  }
  for (const e of [...newest, ...older.entries]) {
    if (rows.some((r) => r.id === e.id)) continue;
    rows.push(e);
  }

  function reset(next: AuditLogFilter | null) {
    setOlderCursor(null);
    setOlder({ entries: [], cursor: null, more: false });
    setFilter(next);
  }
  function apply(e: FormEvent) {
    e.preventDefault();
    reset(toFilter(draft));
  }

  const hasOlder = older.cursor ? older.more : (conn?.pageInfo.hasPreviousPage ?? false);
  const nextCursor = older.cursor ?? conn?.pageInfo.startCursor ?? null;
  return (
    <>
      <form className="filters card" onSubmit={apply} role="search" aria-label="Filter the audit log">
        <Field label="Action" placeholder="e.g. member.role_changed" value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value })} />
        <Field label="Target type" placeholder="e.g. Membership" value={draft.targetType} onChange={(e) => setDraft({ ...draft, targetType: e.target.value })} />
        <Field label="From" type="datetime-local" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        <Field label="To" type="datetime-local" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        <div className="filter-actions">
          <Button type="submit" busy={latest.fetching}>
            Apply filters
          </Button>
          <Button
            variant="ghost"
            onClick={() => {
              setDraft(empty);
              reset(null);
              reexecute({ requestPolicy: 'network-only' });
            }}
          >
            Reset
          </Button>
        </div>
      </form>
      <p className="live-toggle">
        <label>
          <input type="checkbox" checked={liveOn} onChange={(e) => setLiveOn(e.target.checked)} /> Show new entries live
        </label>
        {liveOn && !sub.error && <span className="live-dot" aria-hidden="true" />}
        {sub.error && <span className="field-error"> Live updates unavailable: {errorMessage(sub.error)}</span>}
      </p>
      {latest.error && !conn && <Alert>{errorMessage(latest.error)}</Alert>}
      <ConnectionTable
        caption="Audit log entries, newest first"
        className="audit"
        rows={rows}
        rowKey={(e) => e.id}
        rowProps={(e) => ({ className: e.fresh ? 'fresh' : undefined })}
        loading={latest.fetching && rows.length === 0}
        loadingLabel="Loading the audit log…"
        empty={filter ? 'No entry matches these filters.' : 'Nothing recorded yet.'}
        columns={[
          { header: 'When', cell: (e) => <time dateTime={e.createdAt}>{formatDate(e.createdAt)}</time> },
          {
            header: 'Action',
            rowHeader: true,
            cell: (e) => (
              <>
                <code>{e.action}</code>
                {e.fresh && <span className="badge badge-accent">new</span>}
              </>
            ),
          },
          { header: 'Actor', cell: (e) => e.actor?.name ?? (e.actorId && names.get(e.actorId)) ?? e.actorType ?? '—' },
          { header: 'Target', cell: (e) => e.targetType },
          { header: 'Details', cell: (e) => <Details entry={e} /> },
        ]}
        footer={
          conn && (
            <p className="muted" aria-live="polite">
              {conn.totalCount + live.filter((l) => !newest.some((n) => n.id === l.id) && matches(l, filter)).length} entries
              {live.length > 0 && ` · ${live.length} new since you opened this page`}
            </p>
          )
        }
        more={{ hasMore: hasOlder, busy: olderRes.fetching, label: 'Load older entries', onMore: () => setOlderCursor(nextCursor) }}
      />
    </>
  );
}

function summary(v: unknown): string {
  if (v == null) return '';
  if (typeof v !== 'object') return String(v);
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${k}: ${typeof x === 'object' ? JSON.stringify(x) : String(x)}`)
    .join(', ');
}

function Details({ entry }: { entry: Entry }) {
  const after = summary(entry.after);
  const beforeS = summary(entry.before);
  if (!after && !beforeS) return <span className="muted">—</span>;
  return (
    <details>
      <summary>{(after || beforeS).slice(0, 60)}{(after || beforeS).length > 60 ? '…' : ''}</summary>
      <dl className="kv">
        {beforeS && (
          <>
            <dt>Before</dt>
            <dd>
              <pre>{JSON.stringify(entry.before, null, 2)}</pre>
            </dd>
          </>
        )}
        {after && (
          <>
            <dt>After</dt>
            <dd>
              <pre>{JSON.stringify(entry.after, null, 2)}</pre>
            </dd>
          </>
        )}
        {entry.ip && (
          <>
            <dt>IP</dt>
            <dd>{entry.ip}</dd>
          </>
        )}
        {entry.requestId && (
          <>
            <dt>Request</dt>
            <dd>
              <code>{entry.requestId}</code>
            </dd>
          </>
        )}
      </dl>
    </details>
  );
}
