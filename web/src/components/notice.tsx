import type { ComponentChildren } from 'preact';
import { ApiError } from '../api/client';

/** The message to show for any thrown value: the server's French text, or a generic French one. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return 'Une erreur inattendue est survenue. Réessayez ; si le problème persiste, prévenez l’administrateur.';
}

/** An error box read out at once by screen readers (role=alert). Renders nothing without an error. */
export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  const fields = error instanceof ApiError ? error.fields : [];
  return (
    <div class="notice notice-error" role="alert">
      <p>{errorMessage(error)}</p>
      {fields.length > 0 && (
        <ul>
          {fields.map((f) => (
            <li key={f.path}>{f.message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A success or information message (role=status: read politely). */
export function InfoNotice({ children }: { children: ComponentChildren }) {
  return (
    <div class="notice notice-info" role="status">
      {children}
    </div>
  );
}

/** Placeholder while data loads, announced politely. */
export function Loading({ label = 'Chargement…' }: { label?: string }) {
  return (
    <p class="loading" role="status">
      {label}
    </p>
  );
}
