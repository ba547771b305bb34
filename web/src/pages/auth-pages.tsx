import { useEffect, useRef, useState } from 'preact/hooks';
import { post } from '../api/client';
import { login, markTotpEnabled, type Account } from '../api/session';
import { announce } from '../components/announce';
import { Field } from '../components/field';
import { ErrorNotice, InfoNotice } from '../components/notice';
import { homeFor } from '../components/shell';
import { navigate } from '../router';

/** Reads `#jeton=…` from the URL (identity puts tokens in the fragment: never sent to a server log). */
function tokenFromHash(): string {
  return new URLSearchParams(location.hash.slice(1)).get('jeton') ?? '';
}

/**
 * The emailed token of the page. Opening another emailed link in the same tab is a
 * fragment navigation (no page load): the new token replaces the old one and
 * `onNew` clears the form. Dropping a used token with replaceState fires no event,
 * so the page keeps showing its outcome.
 */
function useEmailedToken(onNew: () => void): string {
  const [token, setToken] = useState(tokenFromHash);
  useEffect(() => {
    const fn = () => {
      const next = tokenFromHash();
      if (!next) return;
      onNew();
      setToken(next);
    };
    window.addEventListener('hashchange', fn);
    return () => window.removeEventListener('hashchange', fn);
  }, []);
  return token;
}

/** Back to the page that asked for a login (`?suite=`, same-app paths only), else the account's home. */
function afterLogin(account: Account): string {
  const next = new URLSearchParams(location.search).get('suite') ?? '';
  return next.startsWith('/app/') && !next.startsWith('/app/connexion') && !account.totpEnrolmentRequired ? next : homeFor(account);
}

/**
 * Login in two steps: email + password, then — when the account has TOTP — the
 * 6-digit code (or a recovery code). The password stays in memory only between
 * the two steps. On the second step focus moves to the code field.
 */
export function LoginPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [step, setStep] = useState<'password' | 'totp'>('password');
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const codeStep = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (step === 'totp') codeStep.current?.focus();
  }, [step]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const extra = step === 'totp' ? (useRecovery ? { recoveryCode: code.trim() } : { totp: code.trim() }) : {};
      const r = await login({ email, password, ...extra });
      if (r.kind === 'totp_required') {
        setStep('totp');
        announce('Mot de passe accepté. Saisissez le code de votre application d’authentification.');
      } else {
        setPassword('');
        navigate(afterLogin(r.account), { replace: true });
      }
    } catch (err) {
      setError(err);
      setCode('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="narrow">
      <h1>Connexion</h1>
      <ErrorNotice error={error} />
      {step === 'password' ? (
        <form onSubmit={submit} noValidate={false}>
          <Field label="Adresse e-mail" type="email" value={email} onInput={setEmail} autoComplete="username" required name="email" />
          <Field label="Mot de passe" type="password" value={password} onInput={setPassword} autoComplete="current-password" required name="password" />
          <button type="submit" class="button" disabled={busy}>
            Se connecter
          </button>
          <p>
            <a href="/app/mot-de-passe">Mot de passe oublié ?</a>
          </p>
        </form>
      ) : (
        <form onSubmit={submit}>
          <h2 ref={codeStep} tabIndex={-1}>
            Double authentification
          </h2>
          {useRecovery ? (
            <Field label="Code de secours" value={code} onInput={setCode} autoComplete="off" required hint="Un des codes de secours reçus à l’activation (chacun ne sert qu’une fois)." name="recovery" />
          ) : (
            <Field
              label="Code à 6 chiffres"
              value={code}
              onInput={setCode}
              autoComplete="one-time-code"
              inputMode="numeric"
              pattern="[0-9]{6}"
              maxLength={6}
              required
              hint="Le code affiché par votre application d’authentification."
              name="totp"
            />
          )}
          <button type="submit" class="button" disabled={busy}>
            Valider
          </button>
          <p>
            <button type="button" class="link-button" onClick={() => (setUseRecovery(!useRecovery), setCode(''))}>
              {useRecovery ? 'Utiliser le code de l’application' : 'Utiliser un code de secours'}
            </button>
          </p>
        </form>
      )}
    </div>
  );
}

/**
 * Password reset: without a token, the "forgot" form (always the same answer, so
 * nobody learns which emails exist); with `#jeton=`, the new-password form, plus
 * the TOTP code when the server asks for it.
 */
export function PasswordResetPage() {
  const [email, setEmail] = useState('');
  const [pw, setPw] = useState('');
  const [pw2, setPw2] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const token = useEmailedToken(() => (setPw(''), setPw2(''), setTotp(''), setNeedTotp(false), setError(null), setDone(null)));

  if (!token) {
    const submit = async (e: Event) => {
      e.preventDefault();
      setError(null);
      try {
        const r = await post<{ message: string }>('/api/auth/password/forgot', { email });
        setDone(r.message);
      } catch (err) {
        setError(err);
      }
    };
    return (
      <div class="narrow">
        <h1>Mot de passe oublié</h1>
        <ErrorNotice error={error} />
        {done ? (
          <InfoNotice>{done}</InfoNotice>
        ) : (
          <form onSubmit={submit}>
            <Field label="Adresse e-mail du compte" type="email" value={email} onInput={setEmail} autoComplete="email" required />
            <button class="button" type="submit">
              Recevoir un lien de réinitialisation
            </button>
          </form>
        )}
        <p>
          <a href="/app/connexion">Retour à la connexion</a>
        </p>
      </div>
    );
  }

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (pw !== pw2) {
      setError(new Error('mismatch'));
      return;
    }
    try {
      await post('/api/auth/password/reset', { token, newPassword: pw, ...(totp ? { totp } : {}) });
      history.replaceState(null, '', '/app/mot-de-passe'); // drop the used token from the URL
      setDone('Votre mot de passe a été changé. Vous pouvez vous connecter.');
    } catch (err) {
      if ((err as { code?: string }).code === 'totp_required') setNeedTotp(true);
      setError(err);
    }
  };
  return (
    <div class="narrow">
      <h1>Nouveau mot de passe</h1>
      {error instanceof Error && error.message === 'mismatch' ? (
        <div class="notice notice-error" role="alert">
          <p>Les deux mots de passe ne sont pas identiques.</p>
        </div>
      ) : (
        <ErrorNotice error={error} />
      )}
      {done ? (
        <>
          <InfoNotice>{done}</InfoNotice>
          <p>
            <a class="button" href="/app/connexion">
              Se connecter
            </a>
          </p>
        </>
      ) : (
        <form onSubmit={submit}>
          <Field label="Nouveau mot de passe" type="password" value={pw} onInput={setPw} autoComplete="new-password" required minLength={12} hint="Au moins 12 caractères ; une phrase de passe est idéale." />
          <Field label="Confirmez le mot de passe" type="password" value={pw2} onInput={setPw2} autoComplete="new-password" required />
          {needTotp && <Field label="Code de double authentification" value={totp} onInput={setTotp} inputMode="numeric" autoComplete="one-time-code" required />}
          <button class="button" type="submit">
            Changer le mot de passe
          </button>
        </form>
      )}
    </div>
  );
}

/**
 * Account activation from the invitation email (`/app/activer#jeton=…`): confirms
 * the address and lets an invited person choose their password.
 */
export function ActivatePage() {
  const [pw, setPw] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const token = useEmailedToken(() => (setPw(''), setError(null), setDone(false)));
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await post('/api/auth/verify-email', { token, ...(pw ? { password: pw } : {}) });
      history.replaceState(null, '', '/app/activer');
      setDone(true);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div class="narrow">
      <h1>Activer mon compte</h1>
      <ErrorNotice error={error} />
      {!token && !done ? (
        <div class="notice notice-error" role="alert">
          <p>Lien d’activation incomplet : ouvrez le lien reçu par e-mail tel quel.</p>
        </div>
      ) : done ? (
        <>
          <InfoNotice>Votre adresse est confirmée et votre compte est actif.</InfoNotice>
          <p>
            <a class="button" href="/app/connexion">
              Se connecter
            </a>
          </p>
        </>
      ) : (
        <form onSubmit={submit}>
          <Field label="Choisissez votre mot de passe" type="password" value={pw} onInput={setPw} autoComplete="new-password" minLength={12} hint="Au moins 12 caractères. Laissez vide si un mot de passe vous a déjà été fixé." />
          <button class="button" type="submit">
            Activer le compte
          </button>
        </form>
      )}
    </div>
  );
}

/**
 * TOTP enrolment: ask for a new seed, show the QR code (a PNG data: URL — allowed
 * by img-src) and the secret for manual entry, confirm with a first code, then
 * show the recovery codes once.
 */
export function TotpEnrolPage() {
  const [enrol, setEnrol] = useState<{ qrDataUrl: string; secret: string } | null>(null);
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const start = async () => {
    setError(null);
    try {
      setEnrol(await post<{ qrDataUrl: string; secret: string; otpauthUrl: string }>('/api/auth/totp/enrol'));
    } catch (err) {
      setError(err);
    }
  };
  const confirm = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await post<{ recoveryCodes: string[] }>('/api/auth/totp/confirm', { code: code.trim() });
      setCodes(r.recoveryCodes);
      markTotpEnabled();
      announce('Double authentification activée. Notez vos codes de secours.');
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div class="narrow">
      <h1>Double authentification (TOTP)</h1>
      <p>Elle est obligatoire pour les titulaires et les super-administrateurs : chaque connexion demandera un code à 6 chiffres de votre application (FreeOTP, Aegis, Google Authenticator…).</p>
      <ErrorNotice error={error} />
      {codes ? (
        <section aria-labelledby="codes-title">
          <h2 id="codes-title">Vos codes de secours</h2>
          <p>Chacun permet une connexion si vous perdez votre téléphone. Ils ne seront plus affichés : imprimez-les ou rangez-les en lieu sûr.</p>
          <ul class="recovery-codes" data-testid="recovery-codes">
            {codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <p>
            <a class="button" href="/">
              Continuer
            </a>
          </p>
        </section>
      ) : enrol ? (
        <form onSubmit={confirm}>
          <img class="qr" src={enrol.qrDataUrl} alt="QR code à scanner avec votre application d’authentification" width={200} height={200} />
          <p>
            Ou saisissez cette clé à la main : <code data-testid="totp-secret">{enrol.secret}</code>
          </p>
          <Field label="Premier code affiché par l’application" value={code} onInput={setCode} inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required />
          <button class="button" type="submit">
            Activer
          </button>
        </form>
      ) : (
        <button class="button" type="button" onClick={start}>
          Générer mon QR code
        </button>
      )}
    </div>
  );
}
