import { useEffect, useRef, useState } from 'react';
import { Link, Navigate, NavLink, Outlet, useLocation, useMatch, useNavigate } from 'react-router';
import { SupportBanner } from './SupportBanner';
import { useMutation, useQuery } from 'urql';
import { AdminOverviewDocument, LogOutDocument, SetActiveTenantDocument, ViewerAccountDocument } from '../../gql/graphql';
import { isSignedIn, onTokens, saveTokens } from '../../app/session';
import { can } from '../../app/tenant';
import { useViewer } from '../../app/viewer';
import { applyTheme, type ThemeChoice } from '../../app/theme';
import { Loading } from '../../ui';
import { Bell } from '../notifications/Bell';
import { PolicyGate } from '../privacy/PolicyGate';

export default function Shell() {
  const location = useLocation();
  const navigate = useNavigate();
  const [signedIn, setSignedIn] = useState(isSignedIn);
  useEffect(() => onTokens((t) => setSignedIn(t != null)), []);

  if (!signedIn) {
    const next = location.pathname + location.search;
    return <Navigate to={next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <SignedInShell key="shell" navigate={navigate} />;
}

function SignedInShell({ navigate }: { navigate: ReturnType<typeof useNavigate> }) {
  const { viewer, tenants, fetching } = useViewer();
  const [account] = useQuery({ query: ViewerAccountDocument });
  // Holders of a platform role see the operators' pages (everyone else is refused: no link).
  const [platform] = useQuery({ query: AdminOverviewDocument });
  const operator = platform.data?.admin.role != null;
  const theme = account.data?.viewer?.preferences.theme as ThemeChoice | undefined;
  useEffect(() => {
    if (theme) applyTheme(theme);
  }, [theme]);

  const orgMatch = useMatch('/o/:slug/*');
  const slug = orgMatch?.params.slug;
  const current = tenants.find((t) => t.slug === slug) ?? null;
  const [navOpen, setNavOpen] = useState(false);
  const location = useLocation();
  useEffect(() => setNavOpen(false), [location.pathname]);

  const [, setActive] = useMutation(SetActiveTenantDocument);
  const [logout, runLogout] = useMutation(LogOutDocument);

  async function switchTo(value: string) {
    if (value === '__new') return navigate('/organisations/new');
    const t = tenants.find((x) => x.slug === value);
    if (!t) return;
    void setActive({ tenantId: t.id });
    navigate(`/o/${t.slug}`);
  }

  async function logOut() {
    await runLogout({});
    saveTokens(null);
    navigate('/login', { replace: true });
  }

  if (!viewer && fetching) return <Loading />;

  return (
    <div className="app">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="btn btn-ghost nav-toggle"
          aria-expanded={navOpen}
          aria-controls="sidenav"
          onClick={() => setNavOpen(!navOpen)}
        >
          <span aria-hidden="true">☰</span>
          <span className="sr-only">Navigation</span>
        </button>
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true">Z</span>
          <span className="brand-name">Zygo</span>
        </Link>
        <div className="org-switcher">
          <label htmlFor="org-switcher" className="sr-only">
            Organisation
          </label>
          <select id="org-switcher" value={slug ?? ''} onChange={(e) => switchTo(e.target.value)}>
            <option value="" disabled>
              {tenants.length ? 'Choose an organisation' : 'No organisation yet'}
            </option>
            {tenants.map((t) => (
              <option key={t.id} value={t.slug}>
                {t.name}
              </option>
            ))}
            <option value="__new">+ New organisation</option>
          </select>
        </div>
        <div className="spacer" />
        {viewer && <Bell />}
        {viewer && <UserMenu name={viewer.name} email={viewer.email} onLogOut={logOut} busy={logout.fetching} />}
      </header>
      <div className="layout">
        <nav id="sidenav" className={`sidenav${navOpen ? ' open' : ''}`} aria-label="Main">
          <ul>
            <li>
              <NavLink to="/" end>
                Dashboard
              </NavLink>
            </li>
          </ul>
          {slug && (
            <>
              <h2 className="nav-heading">{current?.name ?? slug}</h2>
              <ul>
                <li>
                  <NavLink to={`/o/${slug}`} end>
                    Overview
                  </NavLink>
                </li>
                {(!current || can(current, 'workflow.read')) && (
                  <li>
                    <NavLink to={`/o/${slug}/workflows`}>Workflows</NavLink>
                  </li>
                )}
                {(!current || can(current, 'members.read')) && (
                  <li>
                    <NavLink to={`/o/${slug}/members`}>Members</NavLink>
                  </li>
                )}
                <li>
                  <NavLink to={`/o/${slug}/teams`}>Teams</NavLink>
                </li>
                <li>
                  <NavLink to={`/o/${slug}/roles`}>Roles</NavLink>
                </li>
                {current && can(current, 'api_keys.manage') && (
                  <li>
                    <NavLink to={`/o/${slug}/api-keys`}>API keys</NavLink>
                  </li>
                )}
                {current && can(current, 'audit.read') && (
                  <li>
                    <NavLink to={`/o/${slug}/audit`}>Audit log</NavLink>
                  </li>
                )}
                {current && can(current, 'documents.read') && (
                  <li>
                    <NavLink to={`/o/${slug}/documents`}>Documents</NavLink>
                  </li>
                )}
                {current && can(current, 'resources.read') && (
                  <li>
                    <NavLink to={`/o/${slug}/resources`}>Files</NavLink>
                  </li>
                )}
                {current && can(current, 'webhooks.manage') && (
                  <li>
                    <NavLink to={`/o/${slug}/webhooks`}>Webhooks</NavLink>
                  </li>
                )}
                {current && can(current, 'collection.read') && (
                  <li>
                    <NavLink to={`/o/${slug}/collection`}>Collection</NavLink>
                  </li>
                )}
                {current && can(current, 'infrastructure.read') && (
                  <li>
                    <NavLink to={`/o/${slug}/infrastructure`}>Infrastructure</NavLink>
                  </li>
                )}
                {current && can(current, 'billing.read') && (
                  <li>
                    <NavLink to={`/o/${slug}/billing`}>Billing</NavLink>
                  </li>
                )}
                <li>
                  <NavLink to={`/o/${slug}/domains`}>Domains</NavLink>
                </li>
                <li>
                  <NavLink to={`/o/${slug}/settings`} end>
                    Settings
                  </NavLink>
                </li>
                {current && can(current, 'audit.read') && (
                  <li>
                    <NavLink to={`/o/${slug}/settings/support`}>Support access</NavLink>
                  </li>
                )}
              </ul>
            </>
          )}
          {operator && (
            <>
              <h2 className="nav-heading">Platform</h2>
              <ul>
                <li>
                  <NavLink to="/admin" end>
                    Console
                  </NavLink>
                </li>
                <li>
                  <NavLink to="/admin/flags">Feature flags</NavLink>
                </li>
                <li>
                  <NavLink to="/admin/support">Support sessions</NavLink>
                </li>
                <li>
                  <NavLink to="/admin/collection">Collection catalog</NavLink>
                </li>
              </ul>
            </>
          )}
          <h2 className="nav-heading">Account</h2>
          <ul>
            <li>
              <NavLink to="/settings/profile">Profile</NavLink>
            </li>
            <li>
              <NavLink to="/settings/security">Security</NavLink>
            </li>
            <li>
              <NavLink to="/settings/preferences">Preferences</NavLink>
            </li>
            <li>
              <NavLink to="/notifications">Notifications</NavLink>
            </li>
            <li>
              <NavLink to="/settings/privacy">Privacy</NavLink>
            </li>
          </ul>
        </nav>
        <main id="main" className="content" tabIndex={-1}>
          <SupportBanner operator={operator} />
          {viewer && !viewer.emailVerified && (
            <div className="alert alert-warning" role="status">
              Please confirm your e-mail address: open the link we mailed to {viewer.email}.
            </div>
          )}
          <Outlet />
        </main>
        {viewer && <PolicyGate />}
      </div>
    </div>
  );
}

function UserMenu({ name, email, onLogOut, busy }: { name: string; email: string; onLogOut: () => void; busy: boolean }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  return (
    <div className="user-menu" ref={ref}>
      <button type="button" className="btn btn-ghost avatar-btn" aria-expanded={open} aria-controls="user-menu" onClick={() => setOpen(!open)}>
        <span className="avatar" aria-hidden="true">
          {name.slice(0, 1).toUpperCase()}
        </span>
        <span className="user-name">{name}</span>
        <span className="sr-only">Account menu</span>
      </button>
      {open && (
        <div className="menu" id="user-menu">
          <p className="menu-email">{email}</p>
          <Link to="/settings/profile" onClick={() => setOpen(false)}>
            Settings
          </Link>
          <Link to="/settings/security" onClick={() => setOpen(false)}>
            Security
          </Link>
          <button type="button" onClick={onLogOut} disabled={busy}>
            {busy ? 'Logging out…' : 'Log out'}
          </button>
        </div>
      )}
    </div>
  );
}
