// One server's live details read from its provider: the monthly cost, a metrics chart (CPU,
// disk or network over a chosen window) and, for holders of infrastructure.console, a console
// session opened with a written reason (audited).
import { useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { OpenServerConsoleDocument, ServerMetricsDocument, type ServerMetricFamily } from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { Alert, Button, CopyButton, Loading, SelectField, TextAreaField } from '../../ui';

const WINDOWS: { label: string; hours: number }[] = [
  { label: 'Last hour', hours: 1 },
  { label: 'Last 24 hours', hours: 24 },
  { label: 'Last 7 days', hours: 24 * 7 },
];
const FAMILIES: { value: ServerMetricFamily; label: string }[] = [
  { value: 'CPU', label: 'CPU' },
  { value: 'DISK', label: 'Disk' },
  { value: 'NETWORK', label: 'Network' },
];
const COLOURS = ['#4f46e5', '#0891b2', '#16a34a', '#d97706'];

type Series = { name: string; points: { time: string; value: number }[] };

/** The series as lines over one time axis, each scaled to its own largest value (bytes and
 * packets differ by orders of magnitude); the legend gives each maximum. */
export function MetricsChart({ series, label }: { series: Series[]; label: string }) {
  const width = 600;
  const height = 140;
  const times = series.flatMap((s) => s.points.map((p) => Date.parse(p.time)));
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  const maxOf = (s: Series) => Math.max(0, ...s.points.map((p) => p.value));
  const x = (t: string) => (t1 > t0 ? ((Date.parse(t) - t0) / (t1 - t0)) * width : 0);
  const y = (v: number, max: number) => height - (max > 0 ? v / max : 0) * (height - 4) - 2;
  return (
    <figure className="metrics">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} preserveAspectRatio="none">
        {series.map((s, i) => (
          <polyline key={s.name} fill="none" stroke={COLOURS[i % COLOURS.length]} strokeWidth="1.5" points={s.points.map((p) => `${x(p.time).toFixed(1)},${y(p.value, maxOf(s)).toFixed(1)}`).join(' ')} />
        ))}
      </svg>
      <figcaption>
        {series.map((s, i) => (
          <span key={s.name} className="legend">
            <span className="swatch" style={{ background: COLOURS[i % COLOURS.length] }} /> {s.name} (max {maxOf(s).toLocaleString()})
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

export function ServerDetail({ server }: { server: { id: string; name: string } }) {
  const tenant = useTenant();
  const [family, setFamily] = useState<ServerMetricFamily>('CPU');
  const [hours, setHours] = useState(1);
  // The window is fixed when chosen (not on every render), so the query is stable.
  const start = useMemo(() => new Date(Date.now() - hours * 3600_000).toISOString(), [hours]);
  const [res] = useQuery({ query: ServerMetricsDocument, variables: { id: server.id, family, start }, requestPolicy: 'network-only' });
  const node = res.data?.node?.__typename === 'Server' ? res.data.node : null;
  return (
    <section className="card" aria-label={`Details of ${server.name}`}>
      <h2>{server.name}</h2>
      {node?.monthlyCost && (
        <p>
          Monthly cost:{' '}
          <strong>
            {node.monthlyCost.gross.toLocaleString(undefined, { style: 'currency', currency: node.monthlyCost.currency })}
          </strong>{' '}
          ({node.monthlyCost.net.toLocaleString(undefined, { style: 'currency', currency: node.monthlyCost.currency })} before VAT)
        </p>
      )}
      <div className="row">
        <SelectField label="Metrics" value={family} onChange={(e) => setFamily(e.target.value as ServerMetricFamily)}>
          {FAMILIES.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </SelectField>
        <SelectField label="Window" value={String(hours)} onChange={(e) => setHours(Number(e.target.value))}>
          {WINDOWS.map((w) => (
            <option key={w.hours} value={w.hours}>
              {w.label}
            </option>
          ))}
        </SelectField>
      </div>
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {res.fetching && !node && <Loading label="Reading metrics…" />}
      {node?.metrics && <MetricsChart series={node.metrics.series} label={`${FAMILIES.find((f) => f.value === family)?.label} of ${server.name}`} />}
      {tenant.can('infrastructure.console') && <Console serverId={server.id} />}
    </section>
  );
}

function Console({ serverId }: { serverId: string }) {
  const [reason, setReason] = useState('');
  const [res, open] = useMutation(OpenServerConsoleDocument);
  const errors = fieldErrors(res.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await open({ input: { serverId, reason } });
  };
  return (
    <form aria-label="Open a console" onSubmit={submit}>
      <h3>Console</h3>
      <TextAreaField label="Reason" hint="Why you need the console (recorded in the audit log)" value={reason} onChange={(e) => setReason(e.target.value)} error={errors['input.reason']} required />
      {errors[''] && <Alert>{errors['']}</Alert>}
      {res.data && (
        <Alert kind="success">
          Console open: connect a VNC client to <span className="mono">{res.data.openServerConsole.url}</span> with the one-time password{' '}
          <span className="mono">{res.data.openServerConsole.password}</span> <CopyButton text={res.data.openServerConsole.password} label="Copy password" />
        </Alert>
      )}
      <Button type="submit" variant="secondary" busy={res.fetching}>
        Open console
      </Button>
    </form>
  );
}
