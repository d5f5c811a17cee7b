// The organisation's addresses: its subdomain (when the platform has a base domain) and its
// custom domains, each with the TXT record to create, a "check now" button and its status,
// kept live by the organisation's events.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  AddTenantDomainDocument,
  RemoveTenantDomainDocument,
  SetPrimaryTenantDomainDocument,
  TenantDomainsDocument,
  TenantEventsDocument,
  VerifyTenantDomainDocument,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, Loading, PageHeader, formatDate } from '../../ui';

export default function Domains() {
  const tenant = useTenant();
  useDocumentTitle(`Domains · ${tenant.name}`);
  const [res, refetch] = useQuery({ query: TenantDomainsDocument, variables: { id: tenant.id }, requestPolicy: 'cache-and-network' });
  useSubscription({ query: TenantEventsDocument, variables: { tenantId: tenant.id } }, (_, event) => {
    refetch({ requestPolicy: 'network-only' });
    return event;
  });
  const [domain, setDomain] = useState('');
  const [addRes, add] = useMutation(AddTenantDomainDocument);
  const [verifyRes, verify] = useMutation(VerifyTenantDomainDocument);
  const [primaryRes, setPrimary] = useMutation(SetPrimaryTenantDomainDocument);
  const [removeRes, remove] = useMutation(RemoveTenantDomainDocument);
  const [problems, setProblems] = useState(new Map<string, string | null>());
  const canEdit = tenant.can('tenant.update');
  const t = res.data?.tenant;
  const error = verifyRes.error ?? primaryRes.error ?? removeRes.error;

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await add({ input: { tenantId: tenant.id, domain } });
    if (!r.error) {
      setDomain('');
      refetch({ requestPolicy: 'network-only' });
    }
  }

  async function check(id: string) {
    const r = await verify({ id });
    if (r.data) setProblems((m) => new Map(m).set(id, r.data!.verifyTenantDomain.problem ?? null));
    refetch({ requestPolicy: 'network-only' });
  }

  return (
    <section className="page">
      <PageHeader title="Domains" />
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {!t && <Loading />}
      {t && (
        <>
          {t.subdomainUrl && (
            <p>
              The organisation's own address: <a href={t.subdomainUrl}>{t.subdomainUrl}</a>
            </p>
          )}
          {error && <Alert>{errorMessage(error)}</Alert>}
          {t.domains.length === 0 ? (
            <p className="muted">No custom domain yet.</p>
          ) : (
            <table className="table" aria-label="Custom domains">
              <thead>
                <tr>
                  <th scope="col">Domain</th>
                  <th scope="col">Status</th>
                  <th scope="col">Record to create</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {t.domains.map((d) => (
                  <tr key={d.id} data-domain={d.domain}>
                    <td>
                      {d.domain} {d.isPrimary && <span className="badge badge-accent">Primary</span>}
                    </td>
                    <td>
                      <span className={d.status === 'VERIFIED' ? 'badge badge-success' : 'badge'}>{d.status === 'VERIFIED' ? 'Verified' : 'Pending'}</span>
                      {d.failingSince && <div className="muted">Record missing since {formatDate(d.failingSince)}</div>}
                      {d.lastCheckedAt && <div className="muted">Checked {formatDate(d.lastCheckedAt)}</div>}
                      {problems.get(d.id) && <div role="status">{problems.get(d.id)}</div>}
                    </td>
                    <td>
                      <code>
                        {d.verificationRecord.name} {d.verificationRecord.type} "{d.verificationRecord.value}"
                      </code>
                    </td>
                    <td>
                      {canEdit && (
                        <>
                          <Button variant="secondary" busy={verifyRes.fetching} onClick={() => check(d.id)}>
                            Check now
                          </Button>
                          {d.status === 'VERIFIED' && !d.isPrimary && (
                            <Button variant="ghost" onClick={() => setPrimary({ id: d.id }).then(() => refetch({ requestPolicy: 'network-only' }))}>
                              Make primary
                            </Button>
                          )}
                          <Button
                            variant="ghost"
                            onClick={() => {
                              if (window.confirm(`Remove ${d.domain}?`)) void remove({ id: d.id }).then(() => refetch({ requestPolicy: 'network-only' }));
                            }}
                          >
                            Remove
                          </Button>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {canEdit && (
            <form className="card" onSubmit={submit} aria-labelledby="add-domain-title">
              <h2 id="add-domain-title">Add a custom domain</h2>
              <p className="muted">Then create the TXT record shown for it at your DNS provider and check it.</p>
              <Field
                label="Domain"
                placeholder="app.example.com"
                value={domain}
                onChange={(e) => setDomain(e.target.value)}
                error={fieldErrors(addRes.error)['input.domain']}
              />
              {addRes.error && !fieldErrors(addRes.error)['input.domain'] && <Alert>{errorMessage(addRes.error)}</Alert>}
              <Button type="submit" busy={addRes.fetching}>
                Add domain
              </Button>
            </form>
          )}
        </>
      )}
    </section>
  );
}
