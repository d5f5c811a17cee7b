// Firewalls: a rules editor (direction, protocol, port or range, source or destination
// ranges, description) and what the firewall applies to — servers, or every server matching
// a label selector. Saving declares the whole set; Zygo converges the provider to it.
import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import {
  CreateFirewallDocument,
  DeleteFirewallDocument,
  UpdateFirewallDocument,
  type FirewallDirection,
  type FirewallProtocol,
  type FirewallRuleInput,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { Alert, Button, Empty, Field, Loading } from '../../ui';
import { ProviderSelect, type Provider } from './Infrastructure';
import { FormErrors, RowActions, ServerPicker, StatusBadge, useNetworking, type FirewallRow, type ServerRow } from './Networking';

type RuleDraft = { direction: FirewallDirection; protocol: FirewallProtocol; port: string; ips: string; description: string };

const NEW_RULE: RuleDraft = { direction: 'IN', protocol: 'TCP', port: '22', ips: '0.0.0.0/0, ::/0', description: '' };

function toInput(r: RuleDraft): FirewallRuleInput {
  const ips = r.ips.split(',').map((s) => s.trim()).filter(Boolean);
  const port = r.protocol === 'TCP' || r.protocol === 'UDP' ? r.port.trim() || null : null;
  return {
    direction: r.direction,
    protocol: r.protocol,
    port,
    sourceIps: r.direction === 'IN' ? ips : [],
    destinationIps: r.direction === 'OUT' ? ips : [],
    description: r.description.trim() || null,
  };
}

function toDraft(r: FirewallRow['rules'][number]): RuleDraft {
  return {
    direction: r.direction,
    protocol: r.protocol,
    port: r.port ?? '',
    ips: (r.direction === 'IN' ? r.sourceIps : r.destinationIps).join(', '),
    description: r.description ?? '',
  };
}

export function Firewalls({ providers }: { providers: Provider[] }) {
  const tenant = useTenant();
  const n = useNetworking();
  const [delRes, del] = useMutation(DeleteFirewallDocument);
  const [editing, setEditing] = useState<string | null>(null);
  if (n.error) return <Alert>{errorMessage(n.error)}</Alert>;
  if (n.loading) return <Loading label="Loading firewalls…" />;
  const manage = tenant.can('infrastructure.manage');
  const name = (id: string) => n.servers.find((s) => s.id === id)?.name ?? 'a server';
  return (
    <>
      <div className="card">
        <h2>Firewalls</h2>
        {n.firewalls.length === 0 ? (
          <Empty>No firewalls yet.</Empty>
        ) : (
          <table className="table" aria-label="Firewalls">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Rules</th>
                <th>Applies to</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {n.firewalls.map((fw) => (
                <tr key={fw.id}>
                  <th scope="row">{fw.name}</th>
                  <td>
                    <StatusBadge status={fw.status} />
                  </td>
                  <td className="mono">
                    {fw.rules.map((r, i) => (
                      <div key={i}>
                        {r.direction} {r.protocol} {r.port ?? ''} {(r.direction === 'IN' ? r.sourceIps : r.destinationIps).join(' ')}
                      </div>
                    ))}
                  </td>
                  <td>{[...fw.serverIds.map(name), ...fw.labelSelectors.map((s) => `label ${s}`)].join(', ') || '—'}</td>
                  <RowActions
                    manage={manage}
                    row={fw}
                    editing={editing === fw.id}
                    onEdit={() => setEditing(editing === fw.id ? null : fw.id)}
                    editLabel="Edit rules"
                    deleting={delRes.fetching}
                    onDelete={() => del({ id: fw.id })}
                  />
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {delRes.error && <Alert>{errorMessage(delRes.error)}</Alert>}
      </div>
      {n.firewalls
        .filter((fw) => fw.id === editing)
        .map((fw) => (
          <FirewallForm key={fw.id} firewall={fw} providers={providers} servers={n.servers} onDone={() => setEditing(null)} />
        ))}
      {manage && providers.length > 0 && <FirewallForm providers={providers} servers={n.servers} onDone={n.reload} />}
    </>
  );
}

/** Creates a firewall, or (given one) edits its rules and what it applies to. */
function FirewallForm({
  firewall,
  providers,
  servers,
  onDone,
}: {
  firewall?: FirewallRow;
  providers: Provider[];
  servers: ServerRow[];
  onDone: () => void;
}) {
  const [providerId, setProviderId] = useState(firewall?.providerId ?? providers[0].id);
  const [name, setName] = useState('');
  const [rules, setRules] = useState<RuleDraft[]>(firewall ? firewall.rules.map(toDraft) : [NEW_RULE]);
  const [serverIds, setServerIds] = useState<string[]>(firewall?.serverIds ?? []);
  const [selectors, setSelectors] = useState((firewall?.labelSelectors ?? []).join(', '));
  const [createRes, create] = useMutation(CreateFirewallDocument);
  const [updateRes, update] = useMutation(UpdateFirewallDocument);
  const res = firewall ? updateRes : createRes;
  const errors = fieldErrors(res.error);
  const set = (i: number, patch: Partial<RuleDraft>) => setRules(rules.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const labelSelectors = selectors.split(',').map((s) => s.trim()).filter(Boolean);
    const input = { rules: rules.map(toInput), serverIds, labelSelectors };
    const r = firewall
      ? await update({ input: { firewallId: firewall.id, ...input } })
      : await create({ input: { providerId, name, ...input } });
    if (!r.error) {
      if (!firewall) {
        setName('');
        setRules([NEW_RULE]);
        setServerIds([]);
      }
      onDone();
    }
  };
  const title = firewall ? `Rules of ${firewall.name}` : 'Create a firewall';
  const shown = rules.flatMap((_, i) => [`input.rules.${i}.port`, `input.rules.${i}.sourceIps`, `input.rules.${i}.destinationIps`]);
  return (
    <form className="card" aria-label={title} onSubmit={submit}>
      <h2>{title}</h2>
      {firewall?.status === 'DRIFTED' && <Alert kind="warning">Changed outside Zygo: saving puts it back as shown here.</Alert>}
      {!firewall && (
        <>
          <ProviderSelect providers={providers} value={providerId} onChange={setProviderId} error={errors.providerId} />
          <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errors['input.name']} required />
        </>
      )}
      <fieldset>
        <legend>Rules (traffic no IN rule allows is dropped)</legend>
        {rules.map((r, i) => (
          <div className="rule-row" key={i} role="group" aria-label={`Rule ${i + 1}`}>
            <label>
              Direction
              <select value={r.direction} onChange={(e) => set(i, { direction: e.target.value as FirewallDirection })}>
                <option value="IN">In</option>
                <option value="OUT">Out</option>
              </select>
            </label>
            <label>
              Protocol
              <select value={r.protocol} onChange={(e) => set(i, { protocol: e.target.value as FirewallProtocol })}>
                {['TCP', 'UDP', 'ICMP', 'ESP', 'GRE'].map((p) => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </select>
            </label>
            <Field
              label="Port"
              value={r.protocol === 'TCP' || r.protocol === 'UDP' ? r.port : ''}
              disabled={!(r.protocol === 'TCP' || r.protocol === 'UDP')}
              onChange={(e) => set(i, { port: e.target.value })}
              error={errors[`input.rules.${i}.port`]}
              placeholder="80 or 1000-2000"
            />
            <Field
              label={r.direction === 'IN' ? 'Sources' : 'Destinations'}
              value={r.ips}
              onChange={(e) => set(i, { ips: e.target.value })}
              error={errors[`input.rules.${i}.sourceIps`] ?? errors[`input.rules.${i}.destinationIps`]}
              placeholder="0.0.0.0/0, ::/0"
            />
            <Field label="Description" value={r.description} onChange={(e) => set(i, { description: e.target.value })} />
            <Button variant="ghost" onClick={() => setRules(rules.filter((_, j) => j !== i))} aria-label={`Remove rule ${i + 1}`}>
              Remove
            </Button>
          </div>
        ))}
        <Button variant="ghost" onClick={() => setRules([...rules, NEW_RULE])}>
          Add a rule
        </Button>
      </fieldset>
      <ServerPicker servers={servers} providerId={providerId} value={serverIds} onChange={setServerIds} label="Apply to servers" />
      <Field
        label="Apply to label selectors"
        value={selectors}
        onChange={(e) => setSelectors(e.target.value)}
        placeholder="role=web, env!=test"
        hint="Every server matching one, now or later"
      />
      <FormErrors errors={errors} shown={['input.name', ...shown]} />
      <Button type="submit" busy={res.fetching}>
        {firewall ? (firewall.status === 'DRIFTED' ? 'Re-apply' : 'Save rules') : 'Create firewall'}
      </Button>
    </form>
  );
}
