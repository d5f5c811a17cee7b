import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useMutation } from 'urql';
import { OAuthSignInDocument } from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { saveTokens, tokensFrom } from '../../app/session';
import { takeOAuthNext } from '../../app/navigation';
import { Alert, Loading } from '../../ui';
import { AuthLayout } from './AuthLayout';
import { MfaStep } from './Login';

const ERRORS: Record<string, string> = {
  access_denied: 'The sign-in was cancelled at the provider.',
};

export default function OAuthCallback() {
  const [params] = useSearchParams();
  const code = params.get('code');
  const providerError = params.get('error');
  const navigate = useNavigate();
  const [res, exchange] = useMutation(OAuthSignInDocument);
  const [next] = useState(takeOAuthNext);
  const [challenge, setChallenge] = useState<{ challenge: string; methods: string[] } | null>(null);
  const started = useRef(false);

  useEffect(() => {
    if (!code || started.current) return;
    started.current = true;
    void exchange({ code }).then((r) => {
      const p = r.data?.exchangeOAuthCode;
      if (p?.tokens) {
        saveTokens(tokensFrom(p.tokens));
        navigate(next, { replace: true });
      } else if (p?.mfaChallenge) {
        setChallenge({ challenge: p.mfaChallenge.challenge, methods: p.mfaChallenge.methods });
      }
    });
  }, [code, exchange, navigate, next]);

  if (challenge)
    return <MfaStep challenge={challenge.challenge} methods={challenge.methods} onDone={() => navigate(next, { replace: true })} onRestart={() => navigate('/login')} />;

  return (
    <AuthLayout title="Signing you in" footer={<Link to="/login">Back to log in</Link>}>
      {providerError && <Alert>{ERRORS[providerError] ?? `The provider refused the sign-in (${providerError}).`}</Alert>}
      {!code && !providerError && <Alert>This page needs a code from the sign-in provider.</Alert>}
      {code && !res.error && <Loading label="Finishing the sign-in…" />}
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
    </AuthLayout>
  );
}
