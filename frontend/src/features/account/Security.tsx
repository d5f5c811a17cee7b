import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import {
  ChangePasswordDocument,
  CompleteOAuthLinkDocument,
  ConfirmTotpEnrollmentDocument,
  DisableTotpDocument,
  LinkOAuthAccountDocument,
  OAuthProvidersDocument,
  RegenerateBackupCodesDocument,
  RevokeOtherSessionsDocument,
  RevokeSessionDocument,
  StartTotpEnrollmentDocument,
  UnlinkOAuthAccountDocument,
  ViewerSecurityDocument,
  type ViewerSecurityQuery,
} from '../../gql/graphql';
import { errorCode, errorMessage, fieldErrors } from '../../app/client';
import { saveTokens } from '../../app/session';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, ConfirmButton, CopyButton, Empty, Field, formatDate, Loading, PageHeader } from '../../ui';
import { ConnectionTable } from '../../ui/ConnectionTable';
import { SettingsNav } from './SettingsNav';

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

/** Shown when a section needs a fresh sign-in (REAUTHENTICATION_REQUIRED). */
function Reauthenticate() {
  const navigate = useNavigate();
  return (
    <Alert kind="warning">
      For your safety this needs a sign-in from the last 10 minutes.{' '}
      <Button
        variant="ghost"
        onClick={() => {
          saveTokens(null);
          navigate(`/login?next=${encodeURIComponent('/settings/security')}`);
        }}
      >
        Log in again
      </Button>
    </Alert>
  );
}

function PasswordCard({ hasPassword, onChanged }: { hasPassword: boolean; onChanged: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [res, change] = useMutation(ChangePasswordDocument);
  const [done, setDone] = useState(false);
  const errs = fieldErrors(res.error);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setDone(false);
    if (next !== repeat) return setMismatch(true);
    setMismatch(false);
    const r = await change({ currentPassword: current, newPassword: next });
    if (r.data) {
      setDone(true);
      setCurrent('');
      setNext('');
      setRepeat('');
      onChanged();
    }
  }
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="pw-title">
      <h2 id="pw-title">{hasPassword ? 'Change password' : 'Set a password'}</h2>
      {hasPassword && (
        <Field label="Current password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} error={errs.currentPassword} required />
      )}
      <Field label="New password" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} error={errs.newPassword} required />
      <Field label="Repeat the new password" type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} error={mismatch ? 'The passwords differ.' : undefined} required />
      {errorCode(res.error) === 'REAUTHENTICATION_REQUIRED' ? <Reauthenticate /> : <Alert>{errs['']}</Alert>}
      {done && <Alert kind="success">Password changed. Your other sessions were signed out.</Alert>}
      <Button type="submit" busy={res.fetching} busyLabel="Saving…">
        {hasPassword ? 'Change password' : 'Set password'}
      </Button>
    </form>
  );
}

function BackupCodes({ codes }: { codes: string[] }) {
  return (
    <div className="backup-codes">
      <Alert kind="warning">Keep these backup codes somewhere safe. Each works once, and they are shown only now.</Alert>
      <ul className="codes" aria-label="Backup codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <CopyButton text={codes.join('\n')} label="Copy codes" />
    </div>
  );
}

function MfaCard({ mfa, onChanged }: { mfa: Sec['mfa']; onChanged: () => void }) {
  const [startRes, start] = useMutation(StartTotpEnrollmentDocument);
  const [confirmRes, confirm] = useMutation(ConfirmTotpEnrollmentDocument);
  const [disableRes, disable] = useMutation(DisableTotpDocument);
  const [regenRes, regenerate] = useMutation(RegenerateBackupCodesDocument);
  const [enrolling, setEnrolling] = useState(false);
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);
  const [mode, setMode] = useState<'idle' | 'disable' | 'regenerate'>('idle');
  const [disableWith, setDisableWith] = useState<'code' | 'password'>('code');
  const [secretValue, setSecretValue] = useState('');
  const enrollment = startRes.data?.startTotpEnrollment;

  const reauth = [startRes.error, confirmRes.error].some((e) => errorCode(e) === 'REAUTHENTICATION_REQUIRED');

  async function begin() {
    setCodes(null);
    const r = await start({});
    if (r.data) setEnrolling(true);
  }

  async function submitConfirm(e: FormEvent) {
    e.preventDefault();
    const r = await confirm({ code: code.replace(/\s/g, '') });
    if (r.data) {
      setCodes(r.data.confirmTotpEnrollment.backupCodes);
      setEnrolling(false);
      setCode('');
      onChanged();
    }
  }

  async function submitDisable(e: FormEvent) {
    e.preventDefault();
    const r = await disable(disableWith === 'code' ? { code: secretValue.trim() } : { password: secretValue });
    if (r.data) {
      setMode('idle');
      setSecretValue('');
      setCodes(null);
      onChanged();
    }
  }

  async function submitRegenerate(e: FormEvent) {
    e.preventDefault();
    const r = await regenerate({ code: secretValue.replace(/\s/g, '') });
    if (r.data) {
      setCodes(r.data.regenerateBackupCodes.backupCodes);
      setMode('idle');
      setSecretValue('');
      onChanged();
    }
  }

  return (
    <section className="card" aria-labelledby="mfa-title">
      <h2 id="mfa-title">Two-factor authentication</h2>
      {codes && <BackupCodes codes={codes} />}
      {mfa.totpEnabled ? (
        <>
          <p>
            <span className="status status-active">On</span> since {formatDate(mfa.totpEnabledAt)} · {mfa.backupCodesRemaining} backup code
            {mfa.backupCodesRemaining === 1 ? '' : 's'} left
          </p>
          {mode === 'idle' && (
            <div className="form-actions">
              <Button variant="secondary" onClick={() => setMode('regenerate')}>
                New backup codes
              </Button>
              <Button variant="secondary" onClick={() => setMode('disable')}>
                Turn off
              </Button>
            </div>
          )}
          {mode === 'regenerate' && (
            <form onSubmit={submitRegenerate} noValidate>
              <Field
                label="Code from your authenticator app"
                inputMode="numeric"
                autoComplete="one-time-code"
                value={secretValue}
                onChange={(e) => setSecretValue(e.target.value)}
                error={fieldErrors(regenRes.error).code ?? fieldErrors(regenRes.error)['']}
                autoFocus
              />
              <div className="form-actions">
                <Button type="submit" busy={regenRes.fetching} busyLabel="Generating…">
                  Generate new codes
                </Button>
                <Button variant="ghost" onClick={() => setMode('idle')}>
                  Cancel
                </Button>
              </div>
            </form>
          )}
          {mode === 'disable' && (
            <form onSubmit={submitDisable} noValidate>
              <fieldset className="choice">
                <legend>Confirm with</legend>
                <label>
                  <input type="radio" name="disable-with" checked={disableWith === 'code'} onChange={() => setDisableWith('code')} /> a code (or a backup code)
                </label>
                <label>
                  <input type="radio" name="disable-with" checked={disableWith === 'password'} onChange={() => setDisableWith('password')} /> your password
                </label>
              </fieldset>
              <Field
                label={disableWith === 'code' ? 'Code' : 'Password'}
                type={disableWith === 'code' ? 'text' : 'password'}
                autoComplete={disableWith === 'code' ? 'one-time-code' : 'current-password'}
                value={secretValue}
                onChange={(e) => setSecretValue(e.target.value)}
                error={fieldErrors(disableRes.error)[disableWith] ?? fieldErrors(disableRes.error)['']}
                autoFocus
              />
              <div className="form-actions">
                <Button type="submit" variant="danger" busy={disableRes.fetching} busyLabel="Turning off…">
                  Turn off two-factor authentication
                </Button>
                <Button variant="ghost" onClick={() => setMode('idle')}>
                  Cancel
                </Button>
              </div>
            </form>
          )}
        </>
      ) : enrolling && enrollment ? (
        <form onSubmit={submitConfirm} noValidate>
          <p>Scan the QR code with an authenticator app (or type the key), then enter the 6-digit code it shows.</p>
          <img className="qr" src={enrollment.qrCode} alt={`QR code for ${enrollment.otpauthUri}`} />
          <p>
            Key: <code aria-label="TOTP secret">{enrollment.secret}</code>
          </p>
          <Field
            label="Code from the app"
            inputMode="numeric"
            autoComplete="one-time-code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            error={fieldErrors(confirmRes.error).code}
            autoFocus
          />
          {!reauth && <Alert>{fieldErrors(confirmRes.error)['']}</Alert>}
          {reauth && <Reauthenticate />}
          <div className="form-actions">
            <Button type="submit" busy={confirmRes.fetching} busyLabel="Checking…">
              Turn on
            </Button>
            <Button variant="ghost" onClick={() => setEnrolling(false)}>
              Cancel
            </Button>
          </div>
        </form>
      ) : (
        <>
          <p>
            <span className="status status-suspended">Off</span> · Protect your account with a code from an authenticator app.
          </p>
          {reauth ? <Reauthenticate /> : <Alert>{errorMessage(startRes.error)}</Alert>}
          <Button busy={startRes.fetching} busyLabel="Starting…" onClick={begin}>
            Set up two-factor authentication
          </Button>
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
