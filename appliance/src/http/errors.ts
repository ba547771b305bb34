/**
 * The one error type that crosses layers. `code` is stable and English (for
 * programs and logs), `message` is French (for people). Anything else thrown is
 * reported as `internal_error` without detail.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    /** French, shown to users. */
    readonly userMessage: string,
    /** English detail for logs; defaults to the code. */
    detail?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? code);
    this.name = 'AppError';
  }
}

/** One line for reports, logs and the console: `code: French message` for our errors, the message otherwise. */
export function describeError(err: unknown): string {
  if (err instanceof AppError) return `${err.code}: ${err.userMessage}`;
  return err instanceof Error ? err.message : String(err);
}

/** French messages for statuses raised by the framework rather than our code. */
const STATUS_MESSAGES: Record<number, [string, string]> = {
  400: ['bad_request', 'Requête invalide.'],
  401: ['unauthenticated', 'Authentification requise.'],
  403: ['forbidden', 'Accès refusé.'],
  404: ['not_found', 'Ressource introuvable.'],
  405: ['method_not_allowed', 'Méthode non autorisée.'],
  413: ['payload_too_large', 'Requête trop volumineuse.'],
  415: ['unsupported_media_type', 'Type de contenu non pris en charge.'],
  422: ['unprocessable', 'Données invalides.'],
  429: ['rate_limited', 'Trop de requêtes, réessayez plus tard.'],
  503: ['unavailable', 'Service momentanément indisponible.'],
};

/** Maps any thrown value to a public (status, code, message) triple. */
export function toPublicError(err: unknown): { status: number; code: string; message: string; headers: Record<string, string>; details?: unknown } {
  if (err instanceof AppError) {
    return { status: err.status, code: err.code, message: err.userMessage, headers: err.headers, details: (err as AppError & { details?: unknown }).details };
  }
  const status = typeof (err as { status?: unknown })?.status === 'number' ? (err as { status: number }).status : 500;
  const known = STATUS_MESSAGES[status];
  if (status >= 400 && status < 500 && known) {
    return { status, code: known[0], message: known[1], headers: {} };
  }
  return { status: 500, code: 'internal_error', message: 'Erreur interne. L’incident a été journalisé.', headers: {} };
}

/** Public error for a bare status (e.g. an unmatched route). */
export function statusError(status: number): AppError {
  const [code, message] = STATUS_MESSAGES[status] ?? ['error', 'Erreur.'];
  return new AppError(status, code, message);
}

/** A 422 carrying field-level problems from validation. */
export class ValidationError extends AppError {
  constructor(readonly details: { path: string; message: string }[]) {
    super(422, 'validation_failed', 'Certaines données sont invalides.', 'validation failed');
  }
}
