// A project's collection jobs: the "new collection" form (collector, URLs with bad lines
// named, auto-update interval) and the jobs table, live through `collectionJobUpdated`, with
// each job's auto-update (stop it; "run now" for the organisation's collection administrators).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  AvailableCollectorsDocument,
  CollectionJobUpdatedDocument,
  RunCollectionJobNowDocument,
  SetCollectionJobScheduleDocument,
  StartCollectionJobDocument,
  type ProjectQuery,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useCan, useTenant } from '../../app/tenant';
import { Alert, Button, Field, formatDate, SelectField, TextAreaField } from '../../ui';

/** The part of a collector's JSON Schema the form renders: one field a property. */
type Schema = { properties?: Record<string, { type?: string; format?: string; title?: string; description?: string }> };

function inputType(p: { type?: string; format?: string }): string {
  if (p.type === 'integer' || p.type === 'number') return 'number';
  if (p.format === 'date' || p.format === 'date-time') return 'date';
  return 'text';
}

/** The parameters a job is asked with: filled fields only, typed as the schema says. */
export function toParameters(schema: Schema | undefined, values: Record<string, string>): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(schema?.properties ?? {})) {
    const v = values[name]?.trim();
    if (!v) continue;
    out[name] = p.type === 'integer' || p.type === 'number' ? Number(v) : p.type === 'boolean' ? v === 'true' : v;
  }
  return Object.keys(out).length ? out : null;
}

type Job = ProjectQuery['project']['collectionJobs'][number];

/** Auto-update choices, in hours (empty: collect once). */
export const EVERY: [string, string][] = [
  ['', 'Once'],
  ['1', 'Every hour'],
  ['6', 'Every 6 hours'],
  ['12', 'Every 12 hours'],
  ['24', 'Every day'],
  ['168', 'Every week'],
];

export function everyLabel(hours: number | null | undefined): string {
  if (!hours) return '—';
  return EVERY.find(([h]) => h === String(hours))?.[1] ?? `Every ${hours} hours`;
}

/** Calls `onEvent` whenever one of the project's jobs changes. */
export function useJobEvents(projectId: string, onEvent: () => void) {
  useSubscription({ query: CollectionJobUpdatedDocument, variables: { projectId } }, (_prev, event) => {
    onEvent();
    return event;
  });
}

export function NewCollection({ projectId, onStarted }: { projectId: string; onStarted: () => void }) {
  const tenant = useTenant();
  const [collectors] = useQuery({ query: AvailableCollectorsDocument, variables: { id: tenant.id } });
  const list = collectors.data?.tenant.availableCollectors ?? [];
  const [collector, setCollector] = useState('');
  const [urls, setUrls] = useState('');
  const [every, setEvery] = useState('');
  const [params, setParams] = useState<Record<string, string>>({});
  const [res, start] = useMutation(StartCollectionJobDocument);
  const errs = fieldErrors(res.error);
  const chosen = collector || list[0]?.id || '';
  const schema = list.find((c) => c.id === chosen)?.inputSchema as Schema | undefined;
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const repeatEveryHours = every ? Number(every) : null;
    const parameters = toParameters(schema, params);
    const r = await start({ input: { projectId, collectorId: chosen, urls, repeatEveryHours, parameters } });
    if (r.data?.startCollectionJob) {
      setUrls('');
      onStarted();
    }
  }
  return (
    <details className="card" open>
      <summary>
        <strong>New collection</strong>
      </summary>
      <form onSubmit={submit} noValidate>
        <SelectField label="Collector" value={chosen} onChange={(e) => setCollector(e.target.value)} error={errs.collectorId}>
          {list.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </SelectField>
        <TextAreaField
          label="URLs (one a line, or CSV rows)"
          value={urls}
          onChange={(e) => setUrls(e.target.value)}
          error={errs.urls}
          rows={4}
        />
        {Object.entries(schema?.properties ?? {}).map(([name, p]) => (
          <Field
            key={name}
            label={p.title ?? name.replace(/_/g, ' ')}
            type={inputType(p)}
            value={params[name] ?? ''}
            onChange={(e) => setParams({ ...params, [name]: e.target.value })}
            error={errs[`parameters.${name}`]}
            hint={p.description}
          />
        ))}
        <SelectField label="Auto-update" value={every} onChange={(e) => setEvery(e.target.value)} error={errs.repeatEveryHours}>
          {EVERY.map(([h, label]) => (
            <option key={h} value={h}>
              {label}
            </option>
          ))}
        </SelectField>
        <Alert>{errs['']}</Alert>
        <Button type="submit" busy={res.fetching} busyLabel="Starting…" disabled={!chosen}>
          Start collection
        </Button>
      </form>
    </details>
  );
}

export function JobsTable({ jobs, canEdit, onChanged }: { jobs: Job[]; canEdit: boolean; onChanged: () => void }) {
  const can = useCan();
  const [scheduleRes, setSchedule] = useMutation(SetCollectionJobScheduleDocument);
  const [runRes, runNow] = useMutation(RunCollectionJobNowDocument);
  const error = scheduleRes.error ?? runRes.error;
  const admin = can('collection.manage');
  return (
    <>
      {error && <Alert>{errorMessage(error)}</Alert>}
      <table aria-label="Collection jobs">
        <thead>
          <tr>
            <th>Started</th>
            <th>Status</th>
            <th>Inputs</th>
            <th>Records</th>
            <th>Errors</th>
            <th>Auto-update</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.id}>
              <td>{formatDate(j.createdAt)}</td>
              <td>
                <span className={`status status-${j.status.toLowerCase()}`}>{j.status}</span>
                {j.error && <span className="muted small"> {j.error}</span>}
              </td>
              <td>{j.inputCount}</td>
              <td>{j.recordCount}</td>
              <td>{j.errorCount}</td>
              <td>
                {everyLabel(j.repeatEveryHours)}
                {j.nextRunAt && <span className="muted small"> · next {formatDate(j.nextRunAt)}</span>}
              </td>
              <td>
                {canEdit && j.repeatEveryHours && (
                  <Button
                    variant="ghost"
                    onClick={async () => {
                      const r = await setSchedule({ id: j.id, everyHours: null });
                      if (r.data) onChanged();
                    }}
                  >
                    Stop auto-update
                  </Button>
                )}
                {admin && (j.nextRunAt || ['PENDING', 'TRIGGERED', 'RUNNING'].includes(j.status)) && (
                  <Button
                    variant="ghost"
                    onClick={async () => {
                      const r = await runNow({ id: j.id });
                      if (r.data) onChanged();
                    }}
                  >
                    Run now
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
