// The organisation's documents: the list (title, team, status, last change) and a new document
// for one of the teams, opened in the editor.
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';
import { CreateDocumentDocument, DocumentsDocument, TenantTeamsDocument } from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { RequirePermission, useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, formatDate, PageHeader, SelectField } from '../../ui';

export default function Documents() {
  const tenant = useTenant();
  useDocumentTitle(`Documents · ${tenant.name}`);
  return (
    <section className="page">
      <PageHeader title="Documents" />
      <RequirePermission permission="documents.read" fallback={<Alert>You cannot read this organisation's documents.</Alert>}>
        <DocumentList />
      </RequirePermission>
    </section>
  );
}

function DocumentList() {
  const tenant = useTenant();
  const [res] = useQuery({ query: DocumentsDocument, variables: { tenantId: tenant.id, first: 50 }, requestPolicy: 'cache-and-network' });
  const docs = res.data?.tenant.documents?.edges.map((e) => e.node) ?? [];
  return (
    <>
      {tenant.can('documents.write') && <NewDocument />}
      <h2>All documents</h2>
      {res.error && !res.data && <Alert>{errorMessage(res.error)}</Alert>}
      {res.data && docs.length === 0 && <p className="muted">No documents yet.</p>}
      {docs.length > 0 && (
        <table className="table" aria-label="Documents">
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Team</th>
              <th scope="col">Status</th>
              <th scope="col">Changed</th>
            </tr>
          </thead>
          <tbody>
            {docs.map((d) => (
              <tr key={d.id}>
                <th scope="row">
                  <Link to={`/o/${tenant.slug}/documents/${encodeURIComponent(d.id)}`}>{d.title}</Link>
                </th>
                <td>{d.team.name}</td>
                <td>
                  <span className="badge">{d.status}</span>
                  {d.hasUnpublishedChanges && d.publishedRevision != null && <span className="muted"> · unpublished changes</span>}
                </td>
                <td>{formatDate(d.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function NewDocument() {
  const tenant = useTenant();
  const navigate = useNavigate();
  const [teams] = useQuery({ query: TenantTeamsDocument, variables: { id: tenant.id } });
  const list = teams.data?.tenant.teams?.edges.map((e) => e.node) ?? [];
  const [title, setTitle] = useState('');
  const [team, setTeam] = useState('');
  const [state, create] = useMutation(CreateDocumentDocument);
  const errors = fieldErrors(state.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await create({ input: { teamId: team || list[0]?.id || '', title } });
    const id = r.data?.createDocument.document.id;
    if (id) navigate(`/o/${tenant.slug}/documents/${encodeURIComponent(id)}`);
  };
  if (teams.data && list.length === 0)
    return (
      <p className="muted">
        Documents belong to a team: <Link to={`/o/${tenant.slug}/teams`}>create a team</Link> first.
      </p>
    );
  return (
    <form className="card form-inline" onSubmit={submit} aria-label="New document">
      <Field label="Title" value={title} onChange={(e) => setTitle(e.target.value)} error={errors.title} required maxLength={200} />
      <SelectField label="Team" value={team || list[0]?.id || ''} onChange={(e) => setTeam(e.target.value)} error={errors.teamId}>
        {list.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name}
          </option>
        ))}
      </SelectField>
      {errors[''] && <Alert>{errors['']}</Alert>}
      <Button type="submit" busy={state.fetching} disabled={list.length === 0}>
        Create document
      </Button>
    </form>
  );
}
