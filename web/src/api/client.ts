/**
 * The one way the UI talks to the appliance: JSON over same-origin fetch with the
 * session cookies, the CSRF token echoed on every state-changing request (identity's
 * `X-CSRF-Token` convention), and the server's French `{error:{code,message}}` turned
 * into an ApiError whose message can be shown as is.
 */

/** Header the server checks against its `__Host-` CSRF cookie. */
export const CSRF_HEADER = 'X-CSRF-Token';

let csrfToken: string | null = null;
const listeners = { unauthenticated: new Set<() => void>(), readOnly: new Set<() => void>() };

/** Remembers the CSRF token the server hands out (login, TOTP, whoami, refresh). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a request comes back 401 (session expired): the app sends the user to login. */
export function onUnauthenticated(fn: () => void): () => void {
  listeners.unauthenticated.add(fn);
  return () => listeners.unauthenticated.delete(fn);
}

/** Called when a write is refused because the appliance is read-only: the banner refreshes. */
export function onReadOnlyRefusal(fn: () => void): () => void {
  listeners.readOnly.add(fn);
  return () => listeners.readOnly.delete(fn);
}

/** A failed API call, with the server's stable code and its French message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** French fallbacks when the server gave no usable message (proxy error, network cut). */
function fallbackMessage(status: number): string {
  if (status === 0) return 'Impossible de joindre l’appliance. Vérifiez la connexion au réseau de la pharmacie.';
  if (status === 401) return 'Votre session a expiré. Reconnectez-vous.';
  if (status === 403) return 'Accès refusé.';
  if (status === 404) return 'Ressource introuvable.';
  if (status === 429) return 'Trop de tentatives. Patientez un peu avant de réessayer.';
  if (status === 503) return 'L’appliance est momentanément indisponible. Réessayez plus tard.';
  return 'Une erreur inattendue est survenue. Réessayez ; si le problème persiste, prévenez l’administrateur.';
}

async function toApiError(res: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  const code = typeof err?.code === 'string' ? err.code : `http_${res.status}`;
  const message = typeof err?.message === 'string' && err.message ? err.message : fallbackMessage(res.status);
  const fields = Array.isArray(err?.details)
    ? (err.details as unknown[]).filter((d): d is { path: string; message: string } => typeof (d as { path?: unknown })?.path === 'string')
    : [];
  return new ApiError(res.status, code, message, fields);
}

/** Options of one call: a JSON body, query parameters, or a raw body (file upload). */
export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  raw?: Blob | ArrayBuffer;
  signal?: AbortSignal;
  /** Do not try to refresh the session on 401 (auth endpoints themselves). */
  noRefresh?: boolean;
}

/** Builds `/api/...?a=1` from a path and optional query parameters (empty values dropped). */
export function apiUrl(path: string, query?: RequestOptions['query']): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

let refreshing: Promise<boolean> | null = null;
/** Public auth calls whose 401 means "wrong credentials", not "session expired". */
const NO_REFRESH = /^\/api\/auth\/(login|refresh|logout|password\/|verify-email|csrf)/;

/**
 * Access tokens are short-lived: on a 401 the client rotates the session once with
 * the refresh cookie (concurrent calls share one refresh) and replays the request.
 */
function refreshSession(): Promise<boolean> {
  refreshing ??= fetch('/api/auth/refresh', {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', ...(csrfToken ? { [CSRF_HEADER]: csrfToken } : {}) },
    body: '{}',
    credentials: 'same-origin',
    cache: 'no-store',
  })
    .then((r) => r.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** Performs one API call and returns the parsed JSON (undefined for 204). */
export async function api<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: BodyInit | undefined;
  if (opts.raw !== undefined) {
    headers['Content-Type'] = 'application/octet-stream';
    body = opts.raw;
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers[CSRF_HEADER] = csrfToken;
  let res: Response;
  try {
    res = await fetch(apiUrl(path, opts.query), { method, headers, body, credentials: 'same-origin', cache: 'no-store', signal: opts.signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network', fallbackMessage(0));
  }
  // A 401 ends the UI's session only when the refresh cookie could not renew it: a
  // route that answers 401 with a fresh session is that route's refusal, not a logout.
  let sessionGone = false;
  if (res.status === 401 && !opts.noRefresh && !NO_REFRESH.test(path)) {
    if (await refreshSession()) return api<T>(method, path, { ...opts, noRefresh: true });
    sessionGone = true;
  }
  if (!res.ok) {
    const err = await toApiError(res);
    if (sessionGone) for (const fn of listeners.unauthenticated) fn();
    if (err.code === 'read_only') for (const fn of listeners.readOnly) fn();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const data = (await res.json()) as T;
  const token = (data as { csrfToken?: unknown } | null)?.csrfToken;
  if (typeof token === 'string') setCsrfToken(token);
  return data;
}

/** Shorthands. */
export const get = <T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal) => api<T>('GET', path, { query, signal });
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, { body: body ?? {} });
export const put = <T>(path: string, body?: unknown) => api<T>('PUT', path, { body: body ?? {} });
export const patch = <T>(path: string, body?: unknown) => api<T>('PATCH', path, { body: body ?? {} });
export const del = <T>(path: string) => api<T>('DELETE', path);
