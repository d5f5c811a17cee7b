// The sign-in part of the security settings: the password, and the second factor (TOTP with
// backup codes). Both may ask for a fresh sign-in first.
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useMutation } from 'urql';
import {
  ChangePasswordDocument,
  ConfirmTotpEnrollmentDocument,
  DisableTotpDocument,
  RegenerateBackupCodesDocument,
  StartTotpEnrollmentDocument,
  type ViewerSecurityQuery,
} from '../../gql/graphql';
import { errorCode, errorMessage, fieldErrors } from '../../app/client';
import { saveTokens } from '../../app/session';
import { Alert, Button, CopyButton, Field, formatDate } from '../../ui';

type Sec = NonNullable<ViewerSecurityQuery['viewer']>;

/** Shown when a section needs a fresh sign-in (REAUTHENTICATION_REQUIRED). */
export function Reauthenticate() {
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

export function PasswordCard({ hasPassword, onChanged }: { hasPassword: boolean; onChanged: () => void }) {
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

export function MfaCard({ mfa, onChanged }: { mfa: Sec['mfa']; onChanged: () => void }) {
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
