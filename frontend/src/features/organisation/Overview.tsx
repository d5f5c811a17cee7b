import { Link } from 'react-router';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { PageHeader } from '../../ui';

export default function Overview() {
  const tenant = useTenant();
  useDocumentTitle(tenant.name);
  const links: { to: string; label: string; text: string; permission?: string }[] = [
    { to: 'workflows', label: 'Workflows', text: 'Build, run and watch automated workflows.', permission: 'workflow.read' },
    { to: 'members', label: 'Members', text: 'Invite people and manage their roles.', permission: 'members.read' },
    { to: 'teams', label: 'Teams', text: 'Group members into teams.' },
    { to: 'roles', label: 'Roles', text: 'Define what each role may do.' },
    { to: 'api-keys', label: 'API keys', text: 'Keys for third-party clients.', permission: 'api_keys.manage' },
    { to: 'audit', label: 'Audit log', text: 'Every change, as it happens.', permission: 'audit.read' },
    { to: 'settings', label: 'Settings', text: 'Name, address and branding.' },
  ];
  return (
    <section className="page">
      <PageHeader title={tenant.name} />
      <p className="muted">
        <code>{tenant.slug}</code> · your role: {tenant.viewerRole?.name ?? '—'}
        {tenant.status !== 'active' && <span className="badge badge-warning">{tenant.status}</span>}
      </p>
      <ul className="cards">
        {links
          .filter((l) => !l.permission || tenant.can(l.permission))
          .map((l) => (
            <li key={l.to} className="card">
              <h2>
                <Link to={l.to}>{l.label}</Link>
              </h2>
              <p className="muted">{l.text}</p>
            </li>
          ))}
      </ul>
    </section>
  );
}
