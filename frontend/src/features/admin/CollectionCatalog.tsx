// The collection catalog (platform super administrators): platforms and the matrix of their
// service types, each platform service switched on or off (a row at once), its dataset
// tested; which organisations may use a service (by plan, or one organisation); and
// BrightData's credentials per environment, write-only, checked with BrightData.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  BrightDataCredentialsDocument,
  CollectionCatalogDocument,
  SetBrightDataCredentialsDocument,
  SetCollectorGrantDocument,
  SetPlatformServicesEnabledDocument,
  TestPlatformServiceDocument,
  ValidateBrightDataCredentialsDocument,
  type CollectionCatalogQuery,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, formatDate, Loading, PageHeader, SelectField } from '../../ui';

type Service = CollectionCatalogQuery['platformServices'][number];
const TYPES = ['posts', 'comments', 'reels', 'profiles'];

export default function CollectionCatalog() {
  useDocumentTitle('Collection catalog');
  const [res, reexecute] = useQuery({ query: CollectionCatalogDocument, requestPolicy: 'cache-and-network' });
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  return (
    <section className="page">
      <PageHeader title="Collection catalog" />
      {res.error && !res.data && <Alert>{errorMessage(res.error)}</Alert>}
      {res.fetching && !res.data && <Loading label="Loading the catalog…" />}
      {res.data && <Matrix data={res.data} onChanged={reload} />}
      {res.data && <Grants services={res.data.platformServices} />}
      <Credentials />
    </section>
  );
}

function Matrix({ data, onChanged }: { data: CollectionCatalogQuery; onChanged: () => void }) {
  const [setRes, setEnabled] = useMutation(SetPlatformServicesEnabledDocument);
  const [testRes, test] = useMutation(TestPlatformServiceDocument);
  const [tested, setTested] = useState<string | null>(null);
  const toggle = async (ids: string[], enabled: boolean) => {
    const r = await setEnabled({ input: { serviceIds: ids, enabled } });
    if (r.data) onChanged();
  };
  const result = testRes.data?.testPlatformService;
  return (
    <div className="card">
      <h2>Platforms and services</h2>
      {setRes.error && <Alert>{errorMessage(setRes.error)}</Alert>}
      <table aria-label="Platform services">
        <thead>
          <tr>
            <th>Platform</th>
            {TYPES.map((t) => (
              <th key={t}>{t}</th>
            ))}
            <th />
          </tr>
        </thead>
        <tbody>
          {data.collectionPlatforms.map((p) => {
            const mine = data.platformServices.filter((s) => s.platformId === p.id);
            return (
              <tr key={p.id}>
                <th scope="row">
                  {p.name} {!p.enabled && <span className="muted small">(off)</span>}
                </th>
                {TYPES.map((t) => (
                  <td key={t}>
                    {mine
                      .filter((s) => s.serviceType === t)
                      .map((s) => (
                        <div key={s.id}>
                          <label>
                            <input type="checkbox" checked={s.enabled} onChange={(e) => toggle([s.id], e.target.checked)} /> {s.name}
                          </label>{' '}
                          <Button
                            variant="ghost"
                            onClick={async () => {
                              setTested(s.id);
                              await test({ id: s.id });
                            }}
                          >
                            Test dataset
                          </Button>
                        </div>
                      ))}
                  </td>
                ))}
                <td>
                  {mine.length > 0 && (
                    <>
                      <Button variant="ghost" onClick={() => toggle(mine.map((s) => s.id), true)}>
                        Enable all
                      </Button>
                      <Button variant="ghost" onClick={() => toggle(mine.map((s) => s.id), false)}>
                        Disable all
                      </Button>
                    </>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {testRes.error && <Alert>{errorMessage(testRes.error)}</Alert>}
      {result && tested && (
        <Alert kind={result.ok ? 'success' : 'warning'}>
          {data.platformServices.find((s) => s.id === tested)?.name}: {result.message}
          {result.fields.length > 0 && <span className="small"> — fields: {result.fields.join(', ')}</span>}
        </Alert>
      )}
    </div>
  );
}

function Grants({ services }: { services: Service[] }) {
  const [service, setService] = useState('');
  const [who, setWho] = useState<'plan' | 'organisation'>('plan');
  const [target, setTarget] = useState('*');
  const [allowed, setAllowed] = useState(true);
  const [res, grant] = useMutation(SetCollectorGrantDocument);
  const errs = fieldErrors(res.error);
  const chosen = service || services[0]?.id || '';
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const input = who === 'plan' ? { serviceId: chosen, plan: target, allowed } : { serviceId: chosen, organisationId: target, allowed };
    await grant({ input });
  }
  return (
    <form className="card" onSubmit={submit} noValidate aria-label="Grant a collector">
      <h2>Who may use a service</h2>
      <p className="muted small">By plan (a plan key, or * for every organisation); one organisation's grant wins over its plan's.</p>
      <SelectField label="Service" value={chosen} onChange={(e) => setService(e.target.value)} error={errs.serviceId}>
        {services.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </SelectField>
      <SelectField label="Grant to" value={who} onChange={(e) => setWho(e.target.value as 'plan' | 'organisation')}>
        <option value="plan">A plan</option>
        <option value="organisation">One organisation</option>
      </SelectField>
      <Field
        label={who === 'plan' ? 'Plan key' : 'Organisation ID'}
        value={target}
        onChange={(e) => setTarget(e.target.value)}
        error={errs.plan ?? errs.organisationId}
      />
      <label>
        <input type="checkbox" checked={allowed} onChange={(e) => setAllowed(e.target.checked)} /> Allowed
      </label>
      <Alert>{errs['']}</Alert>
      {res.data && <Alert kind="success">Saved.</Alert>}
      <Button type="submit" busy={res.fetching} busyLabel="Saving…">
        Save grant
      </Button>
    </form>
  );
}

function Credentials() {
  const [stored, reexecute] = useQuery({ query: BrightDataCredentialsDocument, requestPolicy: 'cache-and-network' });
  const [environment, setEnvironment] = useState('development');
  const [apiToken, setApiToken] = useState('');
  const [webhookSecret, setWebhookSecret] = useState('');
  const [setRes, save] = useMutation(SetBrightDataCredentialsDocument);
  const [checkRes, check] = useMutation(ValidateBrightDataCredentialsDocument);
  const errs = fieldErrors(setRes.error);
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const r = await save({ input: { environment, apiToken, webhookSecret } });
    if (r.data) {
      setApiToken('');
      setWebhookSecret('');
      reload();
    }
  }
  const checked = checkRes.data?.validateBrightDataCredentials;
  return (
    <div className="card">
      <h2>BrightData credentials</h2>
      <table aria-label="BrightData credentials">
        <thead>
          <tr>
            <th>Environment</th>
            <th>Updated</th>
            <th>Last working</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(stored.data?.brightDataCredentials ?? []).map((c) => (
            <tr key={c.environment}>
              <td>{c.environment}</td>
              <td>{formatDate(c.updatedAt)}</td>
              <td>{c.validatedAt ? formatDate(c.validatedAt) : 'not checked'}</td>
              <td>
                <Button
                  variant="ghost"
                  busy={checkRes.fetching}
                  onClick={async () => {
                    await check({ environment: c.environment });
                    reload();
                  }}
                >
                  Check
                </Button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {checkRes.error && <Alert>{errorMessage(checkRes.error)}</Alert>}
      {checked && <Alert kind={checked.ok ? 'success' : 'warning'}>{`${checked.environment}: ${checked.message}`}</Alert>}
      <form onSubmit={submit} noValidate aria-label="Set BrightData credentials">
        <SelectField label="Environment" value={environment} onChange={(e) => setEnvironment(e.target.value)} error={errs.environment}>
          <option value="development">development</option>
          <option value="staging">staging</option>
          <option value="production">production</option>
        </SelectField>
        <Field label="API token" type="password" autoComplete="off" value={apiToken} onChange={(e) => setApiToken(e.target.value)} error={errs.apiToken} />
        <Field
          label="Webhook secret"
          type="password"
          autoComplete="off"
          value={webhookSecret}
          onChange={(e) => setWebhookSecret(e.target.value)}
          error={errs.webhookSecret}
        />
        <Alert>{errs['']}</Alert>
        <Button type="submit" busy={setRes.fetching} busyLabel="Saving…">
          Save credentials
        </Button>
      </form>
    </div>
  );
}
