// The security settings at /settings/security: password and second factor (SignInCards.tsx),
// open sessions, connected sign-in providers and recent security activity.
import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import {
  CompleteOAuthLinkDocument,
  LinkOAuthAccountDocument,
  OAuthProvidersDocument,
  RevokeOtherSessionsDocument,
  RevokeSessionDocument,
  UnlinkOAuthAccountDocument,
  ViewerSecurityDocument,
  type ViewerSecurityQuery,
} from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, ConfirmButton, Empty, formatDate, Loading, PageHeader } from '../../ui';
import { ConnectionTable } from '../../ui/ConnectionTable';
import { SettingsNav } from './SettingsNav';
import { MfaCard, PasswordCard } from './SignInCards';

type Sec = NonNullable<ViewerSecurityQuery['viewer']>;

export default function Security() {
  useDocumentTitle('Security');
  const [res, reexecute] = useQuery({ query: ViewerSecurityDocument, variables: { eventsLast: 20 }, requestPolicy: 'cache-and-network' });
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  const v = res.data?.viewer;
  return (
    <section className="page medium">
      <PageHeader title="Settings" />
      <SettingsNav />
      <OAuthLinkReturn onLinked={reload} />
      {res.error && !v && <Alert>{errorMessage(res.error)}</Alert>}
      {!v ? (
        <Loading label="Loading security settings…" />
      ) : (
        <>
          <PasswordCard hasPassword={v.hasPassword} onChanged={reload} />
          <MfaCard mfa={v.mfa} onChanged={reload} />
          <SessionsCard sessions={v.sessions} onChanged={reload} />
          <ConnectedAccountsCard accounts={v.connectedAccounts} hasPassword={v.hasPassword} onChanged={reload} />
          <EventsCard events={v.securityEvents.edges.map((e) => e.node)} />
        </>
      )}
    </section>
  );
}

function SessionsCard({ sessions, onChanged }: { sessions: Sec['sessions']; onChanged: () => void }) {
  const [revokeRes, revoke] = useMutation(RevokeSessionDocument);
  const [othersRes, revokeOthers] = useMutation(RevokeOtherSessionsDocument);
  const [message, setMessage] = useState<string | null>(null);
  const [pending, setPending] = useState<string | null>(null);
  const others = sessions.filter((s) => !s.current).length;
  return (
    <section className="card" aria-labelledby="sessions-title">
      <div className="page-header">
        <h2 id="sessions-title">Sessions</h2>
        {others > 0 && (
          <ConfirmButton
            busy={othersRes.fetching}
            confirmLabel="Sign out the others"
            onConfirm={async () => {
              const r = await revokeOthers({});
              if (r.data) {
                setMessage(`${r.data.revokeOtherSessions.revokedCount} session(s) signed out.`);
                onChanged();
              }
            }}
          >
            Sign out all other sessions
          </ConfirmButton>
        )}
      </div>
      {message && <Alert kind="success">{message}</Alert>}
      {(revokeRes.error || othersRes.error) && <Alert>{errorMessage(revokeRes.error ?? othersRes.error)}</Alert>}
      <ConnectionTable
        caption="Open sessions"
        rows={sessions}
        rowKey={(s) => s.id}
        empty="No open sessions."
        columns={[
          {
            header: 'Device',
            rowHeader: true,
            cell: (s) => (
              <>
                {s.device}
                {s.current && <span className="badge badge-accent">this device</span>}
              </>
            ),
          },
          { header: 'IP', cell: (s) => s.ip ?? '—' },
          { header: 'Signed in', cell: (s) => formatDate(s.createdAt) },
          { header: 'Last used', cell: (s) => formatDate(s.lastUsedAt) },
          {
            header: 'Actions',
            className: 'actions',
            cell: (s) =>
              !s.current && (
                <ConfirmButton
                  busy={revokeRes.fetching && pending === s.id}
                  confirmLabel="Sign out"
                  onConfirm={async () => {
                    setPending(s.id);
                    const r = await revoke({ id: s.id });
                    setPending(null);
                    if (r.data) {
                      setMessage('Session signed out.');
                      onChanged();
                    }
                  }}
                >
                  Sign out<span className="sr-only"> {s.device}</span>
                </ConfirmButton>
              ),
          },
        ]}
      />
    </section>
  );
}

function ConnectedAccountsCard({
  accounts,
  hasPassword,
  onChanged,
}: {
  accounts: Sec['connectedAccounts'];
  hasPassword: boolean;
  onChanged: () => void;
}) {
  const onlyWayIn = !hasPassword && accounts.length === 1;
  const [providers] = useQuery({ query: OAuthProvidersDocument });
  const [linkRes, link] = useMutation(LinkOAuthAccountDocument);
  const [unlinkRes, unlink] = useMutation(UnlinkOAuthAccountDocument);
  const list = providers.data?.oauthProviders ?? [];
  const name = (p: string) => list.find((x) => x.name === p)?.displayName ?? p;
  return (
    <section className="card" aria-labelledby="accounts-title">
      <h2 id="accounts-title">Connected accounts</h2>
      {(linkRes.error || unlinkRes.error) && <Alert>{errorMessage(linkRes.error ?? unlinkRes.error)}</Alert>}
      {accounts.length === 0 ? (
        <Empty>No sign-in provider is linked to your account.</Empty>
      ) : (
        <ul className="plain-list">
          {accounts.map((a) => (
            <li key={a.id}>
              <span>
                <strong>{name(a.provider)}</strong> {a.email && <span className="muted">({a.email})</span>}
                <span className="muted small"> · linked {formatDate(a.createdAt, false)}</span>
              </span>
              <ConfirmButton
                busy={unlinkRes.fetching}
                disabled={onlyWayIn}
                title={onlyWayIn ? 'Set a password first: this is your only way to sign in.' : undefined}
                confirmLabel="Unlink"
                onConfirm={async () => {
                  const r = await unlink({ id: a.id });
                  if (r.data) onChanged();
                }}
              >
                Unlink<span className="sr-only"> {name(a.provider)}</span>
              </ConfirmButton>
            </li>
          ))}
        </ul>
      )}
      {list.length > 0 && (
        <div className="form-actions">
          {list
            .filter((p) => !accounts.some((a) => a.provider === p.name))
            .map((p) => (
              <Button
                key={p.name}
                variant="secondary"
                busy={linkRes.fetching}
                onClick={async () => {
                  const r = await link({ provider: p.name });
                  const url = r.data?.linkOAuthAccount.authorizationUrl;
                  if (url) window.location.assign(url);
                }}
              >
                Link {p.displayName}
              </Button>
            ))}
        </div>
      )}
    </section>
  );
}

/** Back from a provider: `/settings/security?provider=…&linkCode=…` (or `error=…`). */
function OAuthLinkReturn({ onLinked }: { onLinked: () => void }) {
  const [params, setParams] = useSearchParams();
  const linkCode = params.get('linkCode');
  const provider = params.get('provider');
  const error = params.get('error');
  const [res, complete] = useMutation(CompleteOAuthLinkDocument);
  const started = useRef(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(error ? { ok: false, text: `Linking ${provider ?? 'the account'} failed (${error}).` } : null);
  useEffect(() => {
    if (!linkCode || started.current) return;
    started.current = true;
    void complete({ code: linkCode }).then((r) => {
      setResult(
        r.data
          ? { ok: true, text: `${r.data.completeOAuthLink.connectedAccount?.provider ?? provider} is now linked to your account.` }
          : { ok: false, text: errorMessage(r.error) ?? 'Linking failed.' },
      );
      setParams({}, { replace: true });
      onLinked();
    });
  }, [linkCode, complete, provider, setParams, onLinked]);
  if (res.fetching) return <Loading label="Linking your account…" />;
  if (!result) return null;
  return <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>;
}

const EVENT_LABELS: Record<string, string> = {
  LOGIN_SUCCEEDED: 'Signed in',
  LOGIN_FAILED: 'Failed sign-in',
  ACCOUNT_LOCKED: 'Account locked',
  ACCOUNT_UNLOCKED: 'Account unlocked',
  MFA_ENABLED: 'Two-factor authentication on',
  MFA_DISABLED: 'Two-factor authentication off',
  MFA_CHALLENGE_FAILED: 'Wrong two-factor code',
  BACKUP_CODE_USED: 'Backup code used',
  BACKUP_CODES_REGENERATED: 'New backup codes',
  SESSION_REVOKED: 'Session signed out',
  PASSWORD_CHANGED: 'Password changed',
  PASSWORD_RESET: 'Password reset',
  OAUTH_ACCOUNT_LINKED: 'Provider linked',
  OAUTH_ACCOUNT_UNLINKED: 'Provider unlinked',
};

function EventsCard({ events }: { events: Sec['securityEvents']['edges'][number]['node'][] }) {
  const list = [...events].reverse();
  return (
    <section className="card" aria-labelledby="events-title">
      <h2 id="events-title">Recent security activity</h2>
      {list.length === 0 ? (
        <Empty>Nothing recorded yet.</Empty>
      ) : (
        <ul className="plain-list">
          {list.map((e) => (
            <li key={e.id}>
              <span>
                <strong>{(e.kind && EVENT_LABELS[e.kind]) ?? e.kind ?? 'Event'}</strong>
                <span className="muted small">
                  {' '}
                  · {formatDate(e.createdAt)}
                  {e.device && ` · ${e.device}`}
                  {e.ip && ` · ${e.ip}`}
                </span>
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
