import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import {
  CompleteMfaChallengeDocument,
  LogInDocument,
  OAuthProvidersDocument,
  ResendVerificationDocument,
} from '../../gql/graphql';
import { errorCode, fieldErrors } from '../../app/client';
import { isSignedIn, saveTokens, tokensFrom } from '../../app/session';
import { rememberOAuthNext, safeNext } from '../../app/navigation';
import { Alert, Button, Field } from '../../ui';
import { AuthLayout } from './AuthLayout';

export default function Login() {
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const navigate = useNavigate();
  const [email, setEmail] = useState(params.get('email') ?? '');
  const [password, setPassword] = useState('');
  const [challenge, setChallenge] = useState<{ challenge: string; methods: string[] } | null>(null);
  const [login, runLogin] = useMutation(LogInDocument);
  const [resend, runResend] = useMutation(ResendVerificationDocument);

  useEffect(() => {
    if (isSignedIn()) navigate(next, { replace: true });
  }, [navigate, next]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await runLogin({ input: { email, password } });
    const p = r.data?.logIn;
    if (p?.tokens) {
      saveTokens(tokensFrom(p.tokens));
      navigate(next, { replace: true });
    } else if (p?.mfaChallenge) {
      setChallenge({ challenge: p.mfaChallenge.challenge, methods: p.mfaChallenge.methods });
    }
  }

  if (challenge)
    return (
      <MfaStep
        challenge={challenge.challenge}
        methods={challenge.methods}
        onDone={() => navigate(next, { replace: true })}
        onRestart={() => setChallenge(null)}
      />
    );

  const errs = fieldErrors(login.error);
  const code = errorCode(login.error);
  const signupHref = `/signup${params.get('next') ? `?next=${encodeURIComponent(next)}` : ''}`;
  return (
    <AuthLayout
      title="Log in"
      footer={
        <>
          <Link to="/forgot-password">Forgot your password?</Link>
          <span>
            New to Zygo? <Link to={signupHref}>Create an account</Link>
          </span>
        </>
      }
    >
      {params.get('expired') && <Alert kind="info">Your session has ended. Please log in again.</Alert>}
      <form onSubmit={submit} noValidate>
        <Field
          label="E-mail"
          type="email"
          name="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errs.email}
        />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errs.password}
        />
        {errs[''] && (
          <Alert>
            {errs['']}
            {code === 'EMAIL_NOT_VERIFIED' && (
              <>
                {' '}
                <Button variant="ghost" busy={resend.fetching} onClick={() => runResend({ email })}>
                  Send the verification mail again
                </Button>
              </>
            )}
          </Alert>
        )}
        {resend.data && <Alert kind="success">If the address needs confirming, a new mail is on its way.</Alert>}
        <Button type="submit" busy={login.fetching} busyLabel="Logging in…" className="wide">
          Log in
        </Button>
      </form>
      <OAuthButtons next={next} />
    </AuthLayout>
  );
}

export function OAuthButtons({ next }: { next: string }) {
  const [{ data }] = useQuery({ query: OAuthProvidersDocument });
  const providers = data?.oauthProviders ?? [];
  if (!providers.length) return null;
  return (
    <div className="oauth">
      <p className="divider">
        <span>or</span>
      </p>
      {providers.map((p) => (
        <a key={p.name} className="btn btn-secondary wide" href={p.signInUrl} onClick={() => rememberOAuthNext(next)}>
          Continue with {p.displayName}
        </a>
      ))}
    </div>
  );
}

/** Second step of a sign-in: a TOTP code or a backup code. */
export function MfaStep({
  challenge,
  methods,
  onDone,
  onRestart,
}: {
  challenge: string;
  methods: string[];
  onDone: () => void;
  onRestart: () => void;
}) {
  const [useBackup, setUseBackup] = useState(false);
  const [code, setCode] = useState('');
  const [res, complete] = useMutation(CompleteMfaChallengeDocument);
  const errs = fieldErrors(res.error);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await complete(
      useBackup ? { challenge, backupCode: code.trim() } : { challenge, code: code.replace(/\s/g, '') },
    );
    if (r.data?.completeMfaChallenge) {
      saveTokens(tokensFrom(r.data.completeMfaChallenge));
      onDone();
    }
  }

  return (
    <AuthLayout title="Two-factor authentication">
      <p>
        {useBackup
          ? 'Enter one of your backup codes. Each code works once.'
          : 'Enter the 6-digit code from your authenticator app.'}
      </p>
      <form onSubmit={submit} noValidate>
        <Field
          label={useBackup ? 'Backup code' : 'Authentication code'}
          name="code"
          autoComplete="one-time-code"
          inputMode={useBackup ? 'text' : 'numeric'}
          autoFocus
          required
          value={code}
          onChange={(e) => setCode(e.target.value)}
          error={errs.code ?? errs.backupCode}
        />
        <Alert>{errs.challenge ?? errs['']}</Alert>
        <Button type="submit" busy={res.fetching} busyLabel="Checking…" className="wide">
          Verify
        </Button>
      </form>
      <div className="auth-footer">
        {methods.includes('backup_code') && (
          <Button variant="ghost" onClick={() => { setUseBackup(!useBackup); setCode(''); }}>
            {useBackup ? 'Use an authenticator code' : 'Use a backup code'}
          </Button>
        )}
        <Button variant="ghost" onClick={onRestart}>
          Start over
        </Button>
      </div>
    </AuthLayout>
  );
}
