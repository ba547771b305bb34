import { useState } from 'preact/hooks';
import type { SessionListResponse } from '../../../appliance/src/auth/auth.api';
import type { Wire } from '../../../appliance/src/http/wire.api';
import { del, get, post } from '../api/client';
import { announce } from '../components/announce';
import { formatDate } from '../format';
import { clientSide, DataTable } from '../components/data-table';
import { Field } from '../components/field';
import { ErrorNotice, InfoNotice } from '../components/notice';

/** A session as identity lists it (`GET /api/auth/sessions`). */
type SessionRow = Wire<SessionListResponse>['sessions'][number];

/** A short French name for a browser from its user agent (no fingerprinting, just readable). */
function browserName(ua: string | null | undefined): string {
  if (!ua) return 'Navigateur inconnu';
  const b = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome / Chromium' : /Safari\//.test(ua) ? 'Safari' : 'Autre navigateur';
  const os = /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${b} sur ${os}` : b;
}

/** Password change: the current one, then the new one twice; the server closes the other sessions. */
function PasswordChange({ onDone }: { onDone: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone(false);
    setMismatch(next !== again);
    if (next !== again) return;
    try {
      await post('/api/auth/password', { currentPassword: current, newPassword: next });
      setCurrent('');
      setNext('');
      setAgain('');
      setDone(true);
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="pw-title">
      <h2 id="pw-title">Changer mon mot de passe</h2>
      {mismatch && (
        <div class="notice notice-error" role="alert">
          <p>Les deux nouveaux mots de passe ne sont pas identiques.</p>
        </div>
      )}
      <ErrorNotice error={error} />
      {done && <InfoNotice>Mot de passe changé. Vos autres sessions ont été fermées.</InfoNotice>}
      <form onSubmit={submit} class="inline-form">
        <Field label="Mot de passe actuel" type="password" value={current} onInput={setCurrent} autoComplete="current-password" required />
        <Field label="Nouveau mot de passe" type="password" value={next} onInput={setNext} autoComplete="new-password" required minLength={12} hint="Au moins 12 caractères ; une phrase de passe est idéale." />
        <Field label="Confirmez le nouveau mot de passe" type="password" value={again} onInput={setAgain} autoComplete="new-password" required />
        <button class="button" type="submit">
          Changer le mot de passe
        </button>
      </form>
    </section>
  );
}

/**
 * Personal data rights (GDPR module): download everything the appliance holds about
 * me, and ask for erasure (the account is disabled at once, data purged within 30 days).
 */
function MyData() {
  const [pw, setPw] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const erase = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!window.confirm('Demander l’effacement de votre compte ? Il sera désactivé immédiatement.')) return;
    try {
      const r = await post<{ message: string; purgeBy: string }>('/api/me/erasure', { password: pw });
      setPw('');
      setDone(`${r.message} (au plus tard le ${formatDate(r.purgeBy)})`);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="mydata-title">
      <h2 id="mydata-title">Mes données personnelles</h2>
      <p>
        <a class="button-secondary" href="/api/me/data-export?format=json" download>
          Télécharger mes données (JSON)
        </a>{' '}
        <a class="button-secondary" href="/api/me/data-export?format=csv" download>
          Télécharger mes données (CSV)
        </a>
      </p>
      <ErrorNotice error={error} />
      {done ? (
        <InfoNotice>{done}</InfoNotice>
      ) : (
        <form onSubmit={erase} class="inline-form">
          <h3>Effacer mon compte</h3>
          <Field label="Mot de passe (confirmation)" type="password" value={pw} onInput={setPw} autoComplete="current-password" required />
          <button class="button-secondary" type="submit">
            Demander l’effacement
          </button>
        </form>
      )}
    </section>
  );
}

/** The caller's open sessions, with revoke (the current one is marked and kept). */
export function SessionsPage() {
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const revoke = async (id: string) => {
    setError(null);
    try {
      await del(`/api/auth/sessions/${encodeURIComponent(id)}`);
      announce('Session fermée.');
      setVersion((v) => v + 1);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <h1>Mes sessions</h1>
      <p>Les appareils connectés à votre compte. Fermez toute session que vous ne reconnaissez pas, puis changez votre mot de passe.</p>
      <ErrorNotice error={error} />
      <DataTable<SessionRow & { browser: string; seen: string }>
        caption="Sessions ouvertes"
        testId="sessions-table"
        deps={[version]}
        rowKey={(r) => r.id}
        load={async (q, signal) => {
          const { sessions } = await get<Wire<SessionListResponse>>('/api/auth/sessions', undefined, signal);
          const rows = sessions.map((s) => ({ ...s, browser: browserName(s.userAgent), seen: s.lastSeenAt }));
          return clientSide(rows, ['browser', 'ip'])(q);
        }}
        initialSort={{ key: 'seen', order: 'desc' }}
        columns={[
          { key: 'browser', label: 'Appareil', sortable: true, render: (r) => (r.current ? `${r.browser} (cette session)` : r.browser) },
          { key: 'ip', label: 'Adresse IP', sortable: true },
          { key: 'createdAt', label: 'Ouverte le', kind: 'datetime', sortable: true },
          { key: 'seen', label: 'Dernière activité', kind: 'datetime', sortable: true },
          {
            key: 'actions',
            label: 'Action',
            render: (r) =>
              r.current ? (
                '—'
              ) : (
                <button type="button" class="button-secondary" onClick={() => revoke(r.id)} aria-label={`Fermer la session ${r.browser} ouverte le ${new Date(r.createdAt).toLocaleString('fr-FR', { timeZone: 'Europe/Paris' })}`}>
                  Fermer
                </button>
              ),
          },
        ]}
      />
      <PasswordChange onDone={() => setVersion((v) => v + 1)} />
      <MyData />
    </>
  );
}
