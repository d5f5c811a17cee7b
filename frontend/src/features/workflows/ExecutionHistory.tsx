// A workflow's runs at /o/:slug/workflows/:workflowId/executions, newest first, kept current by
// the `workflowExecutions` subscription.
import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  ExecuteWorkflowDocument,
  WorkflowBuilderDocument,
  WorkflowExecutionsDocument,
  WorkflowExecutionsUpdatedDocument,
  type ExecutionStatus,
  type WorkflowExecutionsUpdatedSubscription,
} from '../../gql/graphql';
import { useNavigate } from 'react-router';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { ConnectionTable } from '../../ui/ConnectionTable';
import { ErrorNotice, StatusBadge, apiError, formatDate, formatDuration, workflowTable } from './common';
import './workflows.css';

const STATUSES: ExecutionStatus[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
const PAGE = 25;

export default function ExecutionHistory() {
  const { workflowId = '' } = useParams();
  const tenant = useTenant();
  const navigate = useNavigate();
  const [status, setStatus] = useState<ExecutionStatus | ''>('');
  const [last, setLast] = useState(PAGE);
  const [{ data: wf }] = useQuery({ query: WorkflowBuilderDocument, variables: { id: workflowId } });
  useDocumentTitle(wf?.workflow ? `Runs of ${wf.workflow.name}` : 'Runs');
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: WorkflowExecutionsDocument,
    variables: { id: workflowId, status: status || null, last },
    requestPolicy: 'cache-and-network',
  });

  // Live: statuses change in place; a run we do not list yet makes us fetch the list again.
  const [live] = useSubscription<unknown, Record<string, string>>(
    { query: WorkflowExecutionsUpdatedDocument, variables: { workflowId } },
    (prev = {}, event) => {
      const u = (event as WorkflowExecutionsUpdatedSubscription).workflowExecutions;
      return { ...prev, [u.executionId]: u.status };
    },
  );
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const known = useMemo(() => new Set(data?.workflow.executions.edges.map((e) => e.node.id)), [data]);
  useEffect(() => {
    const ids = Object.keys(live.data ?? {});
    if (ids.length === 0) return;
    if (timer.current) clearTimeout(timer.current);
    // Refresh times and newcomers shortly after the last event.
    timer.current = setTimeout(() => reexecute({ requestPolicy: 'network-only' }), ids.some((id) => !known.has(id)) ? 200 : 800);
    return () => {
      if (timer.current) clearTimeout(timer.current);
    };
  }, [live.data, known, reexecute]);

  const [, execute] = useMutation(ExecuteWorkflowDocument);
  const [runError, setRunError] = useState<string | null>(null);
  const run = async () => {
    setRunError(null);
    const r = await execute({ input: { workflowId } });
    const e = apiError(r.error);
    if (e) return setRunError(e.code === 'WORKFLOW_INVALID' ? `The workflow cannot run: ${e.problems.map((p) => p.message).join('; ')}` : e.message);
    navigate(`/o/${tenant.slug}/executions/${r.data!.executeWorkflow.execution.id}`);
  };

  const list = data?.workflow.executions;
  const base = `/o/${tenant.slug}`;
  return (
    <section className="wf-page">
      <p>
        <Link to={`${base}/workflows`}>← Workflows</Link>
      </p>
      <div className="wf-page-head">
        <h1>Runs{wf?.workflow ? ` of ${wf.workflow.name}` : ''}</h1>
        <div className="wf-page-actions">
          <Link className="wf-btn" to={`${base}/workflows/${workflowId}`}>
            Open workflow
          </Link>
          {tenant.can('workflow.execute') && !wf?.workflow.archived && (
            <button type="button" className="wf-btn wf-btn-primary" onClick={run}>
              ▶ Run now
            </button>
          )}
        </div>
      </div>
      <ErrorNotice error={runError} />
      <div className="wf-filters">
        <label htmlFor="wf-status-filter">Status</label>
        <select
          id="wf-status-filter"
          value={status}
          onChange={(e) => setStatus(e.target.value as ExecutionStatus | '')}
          style={{ maxWidth: '12rem' }}
        >
          <option value="">All</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.charAt(0) + s.slice(1).toLowerCase()}
            </option>
          ))}
        </select>
      </div>
      {error && !data && <ErrorNotice error={error} onRetry={() => reexecute({ requestPolicy: 'network-only' })} />}
      <ConnectionTable
        look={workflowTable}
        caption="Runs, newest first"
        connection={list}
        newestFirst
        rowKey={(x) => x.id}
        rowProps={(x) => ({ 'data-execution-id': x.id })}
        loading={!list && fetching}
        loadingLabel="Loading runs…"
        empty={list ? (status ? 'No runs with this status.' : 'This workflow has not run yet.') : null}
        summary={
          list && (
            <p className="wf-muted" aria-live="polite">
              {list.totalCount} run{list.totalCount === 1 ? '' : 's'}
            </p>
          )
        }
        columns={[
          {
            header: 'Status',
            cell: (x) => (
              <>
                <StatusBadge status={live.data?.[x.id] ?? x.status} />
                {x.error && <div className="wf-small wf-muted" title={x.error}>{x.error.length > 80 ? `${x.error.slice(0, 80)}…` : x.error}</div>}
              </>
            ),
          },
          { header: 'Trigger', cell: (x) => x.trigger },
          { header: 'Version', cell: (x) => x.version ?? 'draft' },
          { header: 'Started', cell: (x) => formatDate(x.startedAt ?? x.createdAt) },
          { header: 'Finished', cell: (x) => formatDate(x.finishedAt) },
          { header: 'Duration', cell: (x) => formatDuration(x.startedAt, x.finishedAt) },
          { header: <span className="wf-sr-only">Details</span>, cell: (x) => <Link to={`${base}/executions/${x.id}`}>View</Link> },
        ]}
        more={list && { hasMore: list.pageInfo.hasPreviousPage, busy: fetching, label: 'Show older runs', onMore: () => setLast((l) => l + PAGE) }}
      />
    </section>
  );
}
