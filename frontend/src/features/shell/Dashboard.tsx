import { Link, Navigate } from 'react-router';
import { useViewer } from '../../app/viewer';
import { can } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Loading, PageHeader } from '../../ui';

export default function Dashboard() {
  useDocumentTitle('Dashboard');
  const { viewer, tenants, fetching } = useViewer();
  if (!viewer && fetching) return <Loading />;
  if (viewer && tenants.length === 0) return <Navigate to="/organisations/new" replace />;
  return (
    <section className="page">
      <PageHeader title={`Welcome, ${viewer?.name ?? ''}`}>
        <Link to="/organisations/new" className="btn btn-secondary">
          New organisation
        </Link>
      </PageHeader>
      <h2>Your organisations</h2>
      <ul className="cards">
        {tenants.map((t) => (
          <li key={t.id} className="card">
            <h3>
              <Link to={`/o/${t.slug}`}>{t.name}</Link>
            </h3>
            <p className="muted">
              {t.slug} · {t.viewerRole.name}
            </p>
            <p className="card-links">
              {can(t, 'workflow.read') && <Link to={`/o/${t.slug}/workflows`}>Workflows</Link>}
              {can(t, 'members.read') && <Link to={`/o/${t.slug}/members`}>Members</Link>}
              {can(t, 'audit.read') && <Link to={`/o/${t.slug}/audit`}>Audit log</Link>}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
