// Networks, firewalls and load balancers: what each should be is declared here and Zygo
// converges the provider to it (a DRIFTED one was changed outside Zygo: "Re-apply" puts it
// back). The topology shows how servers, networks, firewalls and load balancers connect.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  CreateNetworkDocument,
  DeleteNetworkDocument,
  TenantNetworkingDocument,
  TenantServersDocument,
  UpdateNetworkDocument,
  type TenantNetworkingQuery,
  type TenantServersQuery,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { Alert, Button, ConfirmButton, Empty, Field, Loading, SelectField } from '../../ui';
import { ProviderSelect, type Provider } from './Infrastructure';
import { useLiveResources } from './Servers';

type T = NonNullable<TenantNetworkingQuery['tenant']>;
export type NetworkRow = T['networks']['edges'][number]['node'];
export type FirewallRow = T['firewalls']['edges'][number]['node'];
export type LoadBalancerRow = T['loadBalancers']['edges'][number]['node'];
export type ServerRow = NonNullable<TenantServersQuery['tenant']>['servers']['edges'][number]['node'];

/** The organisation's networking resources and servers, reloaded on every change. */
export function useNetworking() {
  const tenant = useTenant();
  const [res, reexecute] = useQuery({ query: TenantNetworkingDocument, variables: { id: tenant.id, first: 50 } });
  const [servers, reexecuteServers] = useQuery({ query: TenantServersDocument, variables: { id: tenant.id, first: 100 } });
  const reload = () => {
    reexecute({ requestPolicy: 'network-only' });
    reexecuteServers({ requestPolicy: 'network-only' });
  };
  useLiveResources(reload);
  const t = res.data?.tenant;
  return {
    error: res.error && !res.data ? res.error : null,
    loading: !t,
    reload,
    networks: (t?.networks.edges ?? []).map((e) => e.node),
    firewalls: (t?.firewalls.edges ?? []).map((e) => e.node),
    loadBalancers: (t?.loadBalancers.edges ?? []).map((e) => e.node),
    servers: (servers.data?.tenant?.servers?.edges ?? []).map((e) => e.node).filter((s) => s.externalId && s.status !== 'DELETED'),
  };
}

export function StatusBadge({ status }: { status: string }) {
  const cls = status === 'READY' ? 'available' : status === 'DRIFTED' || status === 'DELETED' ? 'error' : status.toLowerCase();
  return <span className={`status status-${cls}`}>{status.toLowerCase()}</span>;
}

/** Checkboxes of the servers of one account. */
export function ServerPicker({
  servers,
  providerId,
  value,
  onChange,
  label,
}: {
  servers: ServerRow[];
  providerId: string;
  value: string[];
  onChange: (ids: string[]) => void;
  label: string;
}) {
  const mine = servers.filter((s) => s.providerId === providerId);
  return (
    <fieldset className="server-picker">
      <legend>{label}</legend>
      {mine.length === 0 && <p className="muted">No servers on this account yet.</p>}
      {mine.map((s) => (
        <label key={s.id} className="check">
          <input
            type="checkbox"
            checked={value.includes(s.id)}
            onChange={(e) => onChange(e.target.checked ? [...value, s.id] : value.filter((v) => v !== s.id))}
          />
          {s.name}
        </label>
      ))}
    </fieldset>
  );
}

/** A networking resource's row actions: edit (while it rests) and delete (unless an action runs). */
export function RowActions({
  manage,
  row,
  editing,
  onEdit,
  editLabel = 'Edit',
  deleting,
  onDelete,
}: {
  manage: boolean;
  row: { id: string; name: string; status: string };
  editing: boolean;
  onEdit: () => void;
  editLabel?: string;
  deleting: boolean;
  onDelete: () => void;
}) {
  return (
    <td className="actions">
      {manage && (row.status === 'READY' || row.status === 'DRIFTED') && (
        <Button variant="ghost" aria-expanded={editing} onClick={onEdit}>
          {editLabel}
        </Button>
      )}
      {manage && !['PENDING', 'UPDATING', 'DELETING'].includes(row.status) && (
        <ConfirmButton busy={deleting} confirmLabel={`Delete ${row.name}`} onConfirm={onDelete}>
          Delete
        </ConfirmButton>
      )}
    </td>
  );
}

/** The first error of a form that names a field no input shows (`rules.1.port`). */
export function FormErrors({ errors, shown }: { errors: Record<string, string>; shown: string[] }) {
  const rest = Object.entries(errors).find(([k]) => k !== '' && k.includes('.') && !shown.includes(k));
  const message = errors[''] ?? (rest ? `${rest[0].replace(/^input\./, '')}: ${rest[1]}` : null);
  return message ? <Alert>{message}</Alert> : null;
}

export function Networks({ providers }: { providers: Provider[] }) {
  const tenant = useTenant();
  const n = useNetworking();
  const [delRes, del] = useMutation(DeleteNetworkDocument);
  const [editing, setEditing] = useState<string | null>(null);
  if (n.error) return <Alert>{errorMessage(n.error)}</Alert>;
  if (n.loading) return <Loading label="Loading networks…" />;
  const manage = tenant.can('infrastructure.manage');
  const name = (id: string) => n.servers.find((s) => s.id === id)?.name ?? 'a server';
  return (
    <>
      <Topology servers={n.servers} networks={n.networks} firewalls={n.firewalls} loadBalancers={n.loadBalancers} />
      <div className="card">
        <h2>Networks</h2>
        {n.networks.length === 0 ? (
          <Empty>No private networks yet.</Empty>
        ) : (
          <table className="table" aria-label="Networks">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Range</th>
                <th>Subnets</th>
                <th>Servers</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {n.networks.map((net) => (
                <tr key={net.id}>
                  <th scope="row">{net.name}</th>
                  <td>
                    <StatusBadge status={net.status} />
                  </td>
                  <td className="mono">{net.ipRange}</td>
                  <td className="mono">{net.subnets.map((s) => `${s.ipRange} (${s.networkZone})`).join(', ') || '—'}</td>
                  <td>{net.serverIds.map(name).join(', ') || '—'}</td>
                  <RowActions
                    manage={manage}
                    row={net}
                    editing={editing === net.id}
                    onEdit={() => setEditing(editing === net.id ? null : net.id)}
                    deleting={delRes.fetching}
                    onDelete={() => del({ id: net.id })}
                  />
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {delRes.error && <Alert>{errorMessage(delRes.error)}</Alert>}
      </div>
      {n.networks
        .filter((net) => net.id === editing)
        .map((net) => (
          <EditNetwork key={net.id} network={net} servers={n.servers} onDone={() => setEditing(null)} />
        ))}
      {manage && providers.length > 0 && <CreateNetwork providers={providers} servers={n.servers} onCreated={n.reload} />}
    </>
  );
}

function EditNetwork({ network, servers, onDone }: { network: NetworkRow; servers: ServerRow[]; onDone: () => void }) {
  const [serverIds, setServerIds] = useState<string[]>(network.serverIds);
  const [res, update] = useMutation(UpdateNetworkDocument);
  const errors = fieldErrors(res.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await update({ input: { networkId: network.id, serverIds } });
    if (!r.error) onDone();
  };
  return (
    <form className="card" aria-label={`Edit ${network.name}`} onSubmit={submit}>
      <h2>Servers on {network.name}</h2>
      {network.status === 'DRIFTED' && <Alert kind="warning">Changed outside Zygo: saving puts it back as shown here.</Alert>}
      <ServerPicker servers={servers} providerId={network.providerId} value={serverIds} onChange={setServerIds} label="Attached servers" />
      <FormErrors errors={errors} shown={[]} />
      <Button type="submit" busy={res.fetching}>
        {network.status === 'DRIFTED' ? 'Re-apply' : 'Save network'}
      </Button>
    </form>
  );
}

const ZONES = ['eu-central', 'us-east', 'us-west', 'ap-southeast'];

function CreateNetwork({ providers, servers, onCreated }: { providers: Provider[]; servers: ServerRow[]; onCreated: () => void }) {
  const [providerId, setProviderId] = useState(providers[0].id);
  const [name, setName] = useState('');
  const [ipRange, setIpRange] = useState('10.0.0.0/16');
  const [subnet, setSubnet] = useState('10.0.1.0/24');
  const [zone, setZone] = useState('eu-central');
  const [serverIds, setServerIds] = useState<string[]>([]);
  const [res, create] = useMutation(CreateNetworkDocument);
  // AWS places a subnet in an availability zone of the account's region; Hetzner in a zone.
  const aws = providers.find((p) => p.id === providerId)?.kind === 'AWS';
  const chooseProvider = (id: string) => {
    setProviderId(id);
    setZone(providers.find((p) => p.id === id)?.kind === 'AWS' ? '' : 'eu-central');
  };
  const errors = fieldErrors(res.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const subnets = subnet.trim() ? [{ networkZone: zone, ipRange: subnet.trim() }] : [];
    const r = await create({ input: { providerId, name, ipRange, subnets, serverIds } });
    if (!r.error) {
      setName('');
      setServerIds([]);
      onCreated();
    }
  };
  return (
    <form className="card" aria-label="Create a network" onSubmit={submit}>
      <h2>Create a network</h2>
      <ProviderSelect providers={providers} value={providerId} onChange={chooseProvider} error={errors.providerId} />
      <div className="row">
        <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errors['input.name']} required />
        <Field label="IP range" value={ipRange} onChange={(e) => setIpRange(e.target.value)} error={errors['input.ipRange']} hint="A private range of at least /24" required />
      </div>
      <div className="row">
        <Field label="Subnet" value={subnet} onChange={(e) => setSubnet(e.target.value)} error={errors['input.subnets.0.ipRange']} hint="Empty for none" />
        {aws ? (
          <Field label="Availability zone" value={zone} onChange={(e) => setZone(e.target.value)} error={errors['input.subnets.0.networkZone']} hint="One of the account's region, such as us-east-1a" />
        ) : (
          <SelectField label="Network zone" value={zone} onChange={(e) => setZone(e.target.value)} error={errors['input.subnets.0.networkZone']}>
            {ZONES.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </SelectField>
        )}
      </div>
      <ServerPicker servers={servers} providerId={providerId} value={serverIds} onChange={setServerIds} label="Attach servers" />
      <FormErrors errors={errors} shown={['input.name', 'input.ipRange', 'input.subnets.0.ipRange', 'input.subnets.0.networkZone']} />
      <Button type="submit" busy={res.fetching}>
        Create network
      </Button>
    </form>
  );
}

/**
 * How servers, networks, firewalls and load balancers connect: load balancers on the left
 * point at the servers they forward to, firewalls on the right at the servers they guard;
 * each server shows the networks it is attached to.
 */
export function Topology({
  servers,
  networks,
  firewalls,
  loadBalancers,
}: {
  servers: ServerRow[];
  networks: NetworkRow[];
  firewalls: FirewallRow[];
  loadBalancers: LoadBalancerRow[];
}) {
  if (servers.length + networks.length + firewalls.length + loadBalancers.length === 0) return null;
  const row = 44;
  const height = Math.max(servers.length, firewalls.length, loadBalancers.length, 1) * row + 16;
  const y = (i: number) => 16 + i * row + 14;
  const at = (id: string) => servers.findIndex((s) => s.id === id);
  const matches = (labels: unknown, selector: string) =>
    selector.split(',').every((term) => {
      const [k, v] = term.split('=');
      const l = (labels ?? {}) as Record<string, string>;
      return v === undefined ? k in l : l[k] === v;
    });
  const reach = (serverIds: string[], selectors: string[]) => [
    ...new Set([...serverIds.map(at), ...servers.flatMap((s, i) => (selectors.some((sel) => matches(s.labels, sel)) ? [i] : []))]),
  ].filter((i) => i >= 0);
  return (
    <figure className="card topology" aria-label="Topology">
      <h2>Topology</h2>
      <svg viewBox={`0 0 760 ${height}`} width="100%" role="img" aria-label="Servers, networks, firewalls and load balancers">
        {loadBalancers.map((lb, i) =>
          reach(lb.serverIds, lb.labelSelectors).map((s) => (
            <line key={`${lb.id}-${s}`} x1={200} y1={y(i)} x2={280} y2={y(s)} className="edge lb-edge" />
          )),
        )}
        {firewalls.map((fw, i) =>
          reach(fw.serverIds, fw.labelSelectors).map((s) => (
            <line key={`${fw.id}-${s}`} x1={480} y1={y(s)} x2={560} y2={y(i)} className="edge fw-edge" />
          )),
        )}
        {loadBalancers.map((lb, i) => (
          <g key={lb.id} className="node lb">
            <rect x={10} y={y(i) - 14} width={190} height={28} rx={6} />
            <text x={20} y={y(i) + 5}>⇄ {lb.name} {lb.publicIp ?? ''}</text>
          </g>
        ))}
        {servers.map((s, i) => (
          <g key={s.id} className="node server">
            <rect x={280} y={y(i) - 14} width={200} height={28} rx={6} />
            <text x={290} y={y(i) + 5}>
              ▣ {s.name}
              {networks.filter((n) => n.serverIds.includes(s.id)).map((n) => ` · ${n.name}`).join('')}
            </text>
          </g>
        ))}
        {firewalls.map((fw, i) => (
          <g key={fw.id} className="node fw">
            <rect x={560} y={y(i) - 14} width={190} height={28} rx={6} />
            <text x={570} y={y(i) + 5}>firewall {fw.name} ({fw.rules.length} rules)</text>
          </g>
        ))}
      </svg>
      <figcaption className="muted">
        Load balancers (left) forward to servers; firewalls (right) guard them; a server lists the networks it is on.
      </figcaption>
    </figure>
  );
}
