// One server's live details read from its provider: the monthly cost, a metrics chart (CPU,
// disk or network over a chosen window) and, for holders of infrastructure.console, a console
// session opened with a written reason (audited: a VNC address and password, or an SSH serial
// console with a one-time key), a rebuild from an image, and root access: rescue mode and root
// password resets, whose password the provider gives once and only the member who asked can reveal.
import { useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  InfrastructureActionsDocument,
  OpenServerConsoleDocument,
  RevealRootPasswordDocument,
  ServerActionDocument,
  ServerMetricsDocument,
  type ServerMetricFamily,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { Alert, Button, ConfirmButton, CopyButton, Field, Loading, SelectField, TextAreaField } from '../../ui';
import { useLiveResources } from './Servers';

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

type ServerSummary = { id: string; name: string; status: string; image: string; rescueEnabled: boolean };

export function ServerDetail({ server }: { server: ServerSummary }) {
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
      {tenant.can('infrastructure.manage') && <Rebuild server={server} />}
      {tenant.can('infrastructure.manage') && <RootAccess server={server} />}
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
      {res.data && <OpenedConsole console={res.data.openServerConsole} serverId={serverId} />}
      <Button type="submit" variant="secondary" busy={res.fetching}>
        Open console
      </Button>
    </form>
  );
}

/** A console just opened: a VNC address and password, or (AWS) an SSH serial console with a
 * one-time key encrypted with the password, to save and use within a minute. */
function OpenedConsole({ console: c, serverId }: { console: { url: string; password: string; privateKey?: string | null }; serverId: string }) {
  const href = useMemo(() => (c.privateKey ? URL.createObjectURL(new Blob([c.privateKey], { type: 'application/x-pem-file' })) : ''), [c.privateKey]);
  if (!c.privateKey) {
    return (
      <Alert kind="success">
        Console open: connect a VNC client to <span className="mono">{c.url}</span> with the one-time password{' '}
        <span className="mono">{c.password}</span> <CopyButton text={c.password} label="Copy password" />
      </Alert>
    );
  }
  const keyFile = `zygo-console-${serverId.slice(-8)}`;
  const command = `chmod 600 ${keyFile} && ssh -i ${keyFile} ${c.url.replace(/^ssh:\/\//, '')}`;
  return (
    <Alert kind="success">
      Serial console open for 60 seconds: save the one-time key, then run{' '}
      <span className="mono">{command}</span> <CopyButton text={command} label="Copy command" /> and unlock the key with{' '}
      <span className="mono">{c.password}</span> <CopyButton text={c.password} label="Copy password" />{' '}
      <a href={href} download={keyFile}>
        Save key
      </a>
    </Alert>
  );
}

/** Reinstalls the server's disk from one of the provider's images (snapshots are rebuilt
 * from the Snapshots page). */
function Rebuild({ server }: { server: ServerSummary }) {
  const [image, setImage] = useState(server.image);
  const [res, act] = useMutation(ServerActionDocument);
  const errors = fieldErrors(res.error);
  if (server.status !== 'RUNNING' && server.status !== 'OFF') return null;
  return (
    <form aria-label="Rebuild from an image" className="row" onSubmit={(e: FormEvent) => e.preventDefault()}>
      <Field label="Rebuild from image" hint="Erases the disk; the server keeps its addresses" value={image} onChange={(e) => setImage(e.target.value)} error={errors['input.image']} required />
      <ConfirmButton busy={res.fetching} confirmLabel={`Erase and rebuild ${server.name}`} onConfirm={() => act({ input: { serverId: server.id, action: 'REBUILD', image } })}>
        Rebuild
      </ConfirmButton>
      {errors[''] && <Alert>{errors['']}</Alert>}
    </form>
  );
}

function RootAccess({ server }: { server: ServerSummary }) {
  const tenant = useTenant();
  const [actions, reexecute] = useQuery({
    query: InfrastructureActionsDocument,
    variables: { id: tenant.id, targetId: server.id, first: 50 },
    requestPolicy: 'network-only',
  });
  useLiveResources(() => reexecute({ requestPolicy: 'network-only' }));
  const [actRes, act] = useMutation(ServerActionDocument);
  const [revealRes, reveal] = useMutation(RevealRootPasswordDocument);
  const waiting = (actions.data?.tenant?.infrastructureActions.edges ?? [])
    .map((e) => e.node)
    .filter((a) => a.hasRootPassword && a.status === 'SUCCEEDED');
  const powered = server.status === 'RUNNING' || server.status === 'OFF';
  const run = (action: 'ENABLE_RESCUE' | 'DISABLE_RESCUE' | 'RESET_ROOT_PASSWORD') => act({ input: { serverId: server.id, action } });
  const revealed = revealRes.data?.revealRootPassword;
  return (
    <section aria-label="Root access">
      <h3>Root access</h3>
      <p className="muted">{server.rescueEnabled ? 'Rescue mode is enabled: the server boots into the rescue system next.' : 'Rescue mode is off.'}</p>
      <div className="actions">
        {!server.rescueEnabled && powered && (
          <Button variant="secondary" busy={actRes.fetching} onClick={() => run('ENABLE_RESCUE')}>
            Enable rescue
          </Button>
        )}
        {server.rescueEnabled && powered && (
          <Button variant="secondary" busy={actRes.fetching} onClick={() => run('DISABLE_RESCUE')}>
            Disable rescue
          </Button>
        )}
        {server.status === 'RUNNING' && (
          <Button variant="secondary" busy={actRes.fetching} onClick={() => run('RESET_ROOT_PASSWORD')}>
            Reset root password
          </Button>
        )}
      </div>
      {actRes.error && <Alert>{errorMessage(actRes.error)}</Alert>}
      {waiting.map((a) => (
        <p key={a.id}>
          {a.kind === 'server.enable_rescue' ? 'The rescue system' : 'The server'} has a new root password.{' '}
          <Button variant="ghost" busy={revealRes.fetching} onClick={() => reveal({ actionId: a.id })}>
            Reveal root password
          </Button>
        </p>
      ))}
      {revealRes.error && <Alert>{errorMessage(revealRes.error)}</Alert>}
      {revealed && (
        <Alert kind="warning">
          Root password (shown this once): <span className="mono">{revealed.password}</span> <CopyButton text={revealed.password} label="Copy password" />
        </Alert>
      )}
    </section>
  );
}
