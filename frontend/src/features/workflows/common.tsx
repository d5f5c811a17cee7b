// Small pieces shared by the workflow pages: error details, loading/empty states, status badges,
// dates and durations, the node catalog.
import { useMemo, type ReactNode } from 'react';
import { useQuery, type CombinedError } from 'urql';
import { NodeTypesDocument, type NodeTypesQuery } from '../../gql/graphql';
import type { TableLook } from '../../ui/ConnectionTable';
import type { JsonSchema } from './jsonSchema';
import './workflows.css';

export interface Problem {
  kind: string;
  nodeId?: string | null;
  edgeId?: string | null;
  message: string;
}

export interface ApiError {
  code?: string;
  message: string;
  field?: string;
  problems: Problem[];
}

/** The first GraphQL error of a result (code, message, field, problems), or the network error. */
export function apiError(e: CombinedError | undefined | null): ApiError | null {
  if (!e) return null;
  const g = e.graphQLErrors?.[0];
  if (g) {
    const ext = (g.extensions ?? {}) as Record<string, unknown>;
    return {
      code: ext.code as string | undefined,
      message: g.message,
      field: ext.field as string | undefined,
      problems: Array.isArray(ext.problems) ? (ext.problems as Problem[]) : [],
    };
  }
  if (e.networkError) return { message: 'The server cannot be reached. Check your connection and try again.', problems: [] };
  return { message: e.message, problems: [] };
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="wf-loading" role="status" aria-live="polite">
      <span className="wf-spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="wf-empty">
      <p className="wf-empty-title">{title}</p>
      {children}
    </div>
  );
}

export function ErrorNotice({ error, onRetry }: { error: CombinedError | ApiError | string | null | undefined; onRetry?: () => void }) {
  if (!error) return null;
  const message =
    typeof error === 'string' ? error : 'graphQLErrors' in error ? apiError(error)?.message : (error as ApiError).message;
  return (
    <div className="wf-alert wf-alert-error" role="alert">
      <span>{message}</span>
      {onRetry && (
        <button type="button" className="wf-btn wf-btn-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** The shared connection table (`ui/ConnectionTable`) in the workflow pages' own look. */
export const workflowTable: TableLook = {
  table: 'wf-table',
  wrap: 'wf-table-wrap',
  srOnly: 'wf-sr-only',
  loading: (label) => <Loading label={label} />,
  empty: (text) => <EmptyState title={text} />,
  more: ({ label, busy, onMore }) => (
    <button type="button" className="wf-btn" onClick={onMore} disabled={busy}>
      {busy ? 'Loading…' : label}
    </button>
  ),
};

const STATUS_LABEL: Record<string, string> = {
  QUEUED: 'Queued',
  RUNNING: 'Running',
  RETRYING: 'Retrying',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
  SKIPPED: 'Skipped',
};

export function statusLabel(status: string | null | undefined) {
  return status ? (STATUS_LABEL[status] ?? status) : 'Not run';
}

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const s = status ?? 'NONE';
  return (
    <span className={`wf-badge wf-status-${s.toLowerCase()}`} data-status={s}>
      <span className="wf-dot" aria-hidden="true" />
      {statusLabel(status)}
    </span>
  );
}

export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function formatDuration(fromIso: string | null | undefined, toIso: string | null | undefined): string {
  if (!fromIso) return '—';
  const ms = (toIso ? new Date(toIso).getTime() : Date.now()) - new Date(fromIso).getTime();
  if (ms < 0) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export type NodeTypeInfo = Omit<NodeTypesQuery['nodeTypes'][number], 'configSchema'> & { configSchema: JsonSchema };

export const CATEGORY_ORDER = ['trigger', 'action', 'transform', 'logic', 'flow', 'data', 'ai'];
/** Minimap colours (SVG fills; the same hues as the palette's category stripes). */
export const CATEGORY_COLOR: Record<string, string> = {
  trigger: '#0e9f6e',
  action: '#2563eb',
  transform: '#7c3aed',
  logic: '#d97706',
  flow: '#0891b2',
  data: '#64748b',
  ai: '#db2777',
};
export const STATUS_COLOR: Record<string, string> = {
  QUEUED: '#94a3b8',
  RUNNING: '#4338ca',
  RETRYING: '#4338ca',
  SUCCEEDED: '#16a34a',
  FAILED: '#dc2626',
  CANCELLED: '#d97706',
  SKIPPED: '#cbd5e1',
};

export const CATEGORY_LABEL: Record<string, string> = {
  trigger: 'Triggers',
  action: 'Actions',
  transform: 'Transform',
  logic: 'Logic',
  flow: 'Flow',
  data: 'Data',
  ai: 'AI',
};

/** The node catalog, by key. */
export function useNodeTypes() {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: NodeTypesDocument });
  const types = useMemo(() => {
    const map = new Map<string, NodeTypeInfo>();
    for (const t of data?.nodeTypes ?? []) map.set(t.key, { ...t, configSchema: (t.configSchema ?? {}) as JsonSchema });
    return map;
  }, [data]);
  return { types, fetching: fetching && !data, error, retry: () => reexecute({ requestPolicy: 'network-only' }) };
}
