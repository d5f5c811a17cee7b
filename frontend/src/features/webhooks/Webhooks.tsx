// The organisation's webhook endpoints: create one (its secret shown once), choose its event
// types, enable or disable it, rotate its secret, send a test event, and read its delivery log
// with a replay per delivery.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  ReplayWebhookDeliveryDocument,
  RotateWebhookEndpointSecretDocument,
  SendTestWebhookEventDocument,
  TenantWebhookEndpointsDocument,
  UpdateWebhookEndpointDocument,
  WebhookEventTypesDocument,
  type TenantWebhookEndpointsQuery,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { RequirePermission, useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, ConfirmButton, CopyButton, Field, formatDate, PageHeader } from '../../ui';

type Endpoint = NonNullable<TenantWebhookEndpointsQuery['tenant']['webhookEndpoints']>['edges'][number]['node'];

export default function Webhooks() {
  const tenant = useTenant();
  useDocumentTitle(`Webhooks · ${tenant.name}`);
  return (
    <section className="page">
      <PageHeader title="Webhooks" />
      <RequirePermission permission="webhooks.manage" fallback={<Alert>You cannot manage this organisation's webhooks.</Alert>}>
        <WebhooksView />
      </RequirePermission>
    </section>
  );
}

function WebhooksView() {
  const tenant = useTenant();
  const [res, reexecute] = useQuery({
    query: TenantWebhookEndpointsDocument,
    variables: { id: tenant.id, deliveries: 20 },
    requestPolicy: 'cache-and-network',
  });
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  const endpoints = res.data?.tenant.webhookEndpoints?.edges.map((e) => e.node) ?? [];
  return (
    <>
      <p className="muted">
        Endpoints receive this organisation's events as signed POSTs (Standard Webhooks: verify <code>webhook-signature</code> with the
        endpoint's secret). Failed deliveries are retried for about a day.
      </p>
      {secret && (
        <div className="card secret-card" role="status">
          <h2>Signing secret for {secret.url}</h2>
          <Alert kind="warning">Copy the secret now: it is shown this once.</Alert>
          <div className="secret-box">
            <code aria-label="Webhook signing secret">{secret.secret}</code>
            <CopyButton text={secret.secret} label="Copy secret" />
            <Button variant="ghost" onClick={() => setSecret(null)}>
              Done
            </Button>
          </div>
        </div>
      )}
      <CreateEndpoint
        onCreated={(url, s) => {
          setSecret({ url, secret: s });
          reload();
        }}
      />
      <h2>Endpoints</h2>
      {res.error && !res.data && <Alert>{errorMessage(res.error)}</Alert>}
      {res.fetching && !res.data && <p className="muted">Loading endpoints…</p>}
      {res.data && endpoints.length === 0 && <p className="muted">No endpoints yet.</p>}
      {endpoints.map((e) => (
        <EndpointCard key={e.id} endpoint={e} onChanged={reload} onSecret={(s) => setSecret({ url: e.url, secret: s })} />
      ))}
    </>
  );
}

function EventTypePicker({ value, onChange }: { value: string[]; onChange: (v: string[]) => void }) {
  const [res] = useQuery({ query: WebhookEventTypesDocument });
  const types = res.data?.webhookEventTypes ?? [];
  return (
    <fieldset className="event-types">
      <legend>Event types</legend>
      {types.map((t) => (
        <label key={t.name} title={t.description}>
          <input
            type="checkbox"
            checked={value.includes(t.name)}
            onChange={(ev) => onChange(ev.target.checked ? [...value, t.name] : value.filter((x) => x !== t.name))}
          />{' '}
          <code>{t.name}</code>
        </label>
      ))}
    </fieldset>
  );
}

function CreateEndpoint({ onCreated }: { onCreated: (url: string, secret: string) => void }) {
  const tenant = useTenant();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [types, setTypes] = useState<string[]>([]);
  const [ordered, setOrdered] = useState(false);
  const [res, create] = useMutation(CreateWebhookEndpointDocument);
  const errs = fieldErrors(res.error);
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const r = await create({ input: { tenantId: tenant.id, url, description, eventTypes: types, ordered } });
    const p = r.data?.createWebhookEndpoint;
    if (p) {
      onCreated(p.endpoint.url, p.secret);
      setUrl('');
      setDescription('');
      setTypes([]);
    }
  }
  return (
    <details className="card">
      <summary>
        <strong>Add an endpoint</strong>
      </summary>
      <form onSubmit={submit} noValidate>
        <div className="row">
          <Field label="Endpoint URL" value={url} onChange={(e) => setUrl(e.target.value)} error={errs.url} required />
          <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={errs.description} />
        </div>
        <EventTypePicker value={types} onChange={setTypes} />
        {errs.eventTypes && <Alert>{errs.eventTypes}</Alert>}
        <label className="checkbox">
          <input type="checkbox" checked={ordered} onChange={(e) => setOrdered(e.target.checked)} /> Deliver in order (one event at a time)
        </label>
        <Alert>{errs['']}</Alert>
        <Button type="submit" busy={res.fetching} busyLabel="Adding…">
          Add endpoint
        </Button>
      </form>
    </details>
  );
}

function EndpointCard({ endpoint: e, onChanged, onSecret }: { endpoint: Endpoint; onChanged: () => void; onSecret: (s: string) => void }) {
  const [updateRes, update] = useMutation(UpdateWebhookEndpointDocument);
  const [deleteRes, remove] = useMutation(DeleteWebhookEndpointDocument);
  const [rotateRes, rotate] = useMutation(RotateWebhookEndpointSecretDocument);
  const [testRes, sendTest] = useMutation(SendTestWebhookEventDocument);
  const [replayRes, replay] = useMutation(ReplayWebhookDeliveryDocument);
  const [editing, setEditing] = useState(false);
  const [types, setTypes] = useState<string[]>(e.eventTypes);
  const error = updateRes.error ?? deleteRes.error ?? rotateRes.error ?? testRes.error ?? replayRes.error;
  const deliveries = [...e.deliveries.edges].reverse().map((d) => d.node);
  return (
    <article className="card webhook-endpoint" aria-label={`Endpoint ${e.url}`}>
      <header className="row">
        <div>
          <h3>
            <code>{e.url}</code>
          </h3>
          {e.description && <p className="muted">{e.description}</p>}
          <p>
            {e.enabled ? <span className="status status-active">enabled</span> : <span className="status status-revoked">disabled</span>}
            {e.disabledReason && <span className="muted"> — {e.disabledReason}</span>}
            {e.ordered && <span className="badge"> in order</span>}
          </p>
          <p className="muted small">{e.eventTypes.length ? e.eventTypes.join(', ') : 'No event types (test events only)'}</p>
        </div>
        <div className="actions">
          <Button
            variant="ghost"
            busy={updateRes.fetching}
            onClick={async () => {
              await update({ input: { endpointId: e.id, enabled: !e.enabled } });
              onChanged();
            }}
          >
            {e.enabled ? 'Disable' : 'Enable'}
          </Button>
          <Button variant="ghost" onClick={() => setEditing(!editing)}>
            Event types
          </Button>
          <Button
            variant="ghost"
            busy={testRes.fetching}
            disabled={!e.enabled}
            onClick={async () => {
              await sendTest({ id: e.id });
              onChanged();
            }}
          >
            Send test event
          </Button>
          <ConfirmButton
            busy={rotateRes.fetching}
            confirmLabel="Rotate"
            onConfirm={async () => {
              const r = await rotate({ id: e.id });
              const s = r.data?.rotateWebhookEndpointSecret.secret;
              if (s) onSecret(s);
              onChanged();
            }}
          >
            Rotate secret
          </ConfirmButton>
          <ConfirmButton
            busy={deleteRes.fetching}
            confirmLabel="Delete"
            onConfirm={async () => {
              await remove({ id: e.id });
              onChanged();
            }}
          >
            Delete
          </ConfirmButton>
        </div>
      </header>
      {error && <Alert>{errorMessage(error)}</Alert>}
      {e.previousSecretExpiresAt && <p className="muted small">The previous secret also signs until {formatDate(e.previousSecretExpiresAt)}.</p>}
      {editing && (
        <form
          onSubmit={async (ev) => {
            ev.preventDefault();
            const r = await update({ input: { endpointId: e.id, eventTypes: types } });
            if (r.data) {
              setEditing(false);
              onChanged();
            }
          }}
        >
          <EventTypePicker value={types} onChange={setTypes} />
          <Button type="submit" busy={updateRes.fetching}>
            Save event types
          </Button>
        </form>
      )}
      <table className="table">
        <caption>Recent deliveries ({e.deliveries.totalCount} in all)</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Event</th>
            <th scope="col">Attempt</th>
            <th scope="col">Result</th>
            <th scope="col">Duration</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.length === 0 && (
            <tr>
              <td colSpan={6} className="muted">
                Nothing delivered yet.
              </td>
            </tr>
          )}
          {deliveries.map((d) => (
            <tr key={d.id}>
              <td>{formatDate(d.createdAt)}</td>
              <th scope="row">
                <code>{d.eventType}</code>
              </th>
              <td>{d.attempt}</td>
              <td title={d.responseExcerpt ?? d.error ?? ''}>
                {d.succeeded ? (
                  <span className="status status-active">{d.responseStatus}</span>
                ) : (
                  <span className="status status-revoked">{d.responseStatus ?? d.error ?? 'failed'}</span>
                )}
              </td>
              <td>{d.durationMs} ms</td>
              <td className="actions">
                <Button
                  variant="ghost"
                  busy={replayRes.fetching}
                  disabled={!e.enabled}
                  onClick={async () => {
                    await replay({ id: d.id });
                    onChanged();
                  }}
                >
                  Replay
                </Button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}
