/**
 * The identity API's JSON shapes (auth.routes.ts), declared once for the server and the
 * web UI (`import type` on both sides; types only, see http/wire.api.ts). Server values
 * keep their `Date`s here; the browser reads them through `Wire<…>` (ISO strings).
 */

/** Roles on the appliance (the runtime list is ROLES in user.entity.ts). */
export type Role = 'user' | 'pharmacy_admin' | 'group_admin' | 'super_admin';

/** Who an account is and what it reaches: what every view of a signed-in account carries. */
export interface AccountProfile {
  email: string;
  displayName: string;
  role: Role;
  pharmacyId: string | null;
  groupementId: string | null;
  totpEnabled: boolean;
}

/** What the UI learns about the signed-in account. */
export interface AccountView extends AccountProfile {
  id: string;
  /** True while an admin still has to enrol TOTP: only enrolment routes answer. */
  totpEnrolmentRequired: boolean;
}

/** `GET /api/auth/csrf`: the token every state-changing request must carry. */
export interface CsrfResponse {
  csrfToken: string;
}

/** `POST /api/auth/login`: the account, and a new CSRF token for the new session (no fixation). */
export interface LoginResponse {
  account: AccountView;
  csrfToken: string;
  accessExpiresInSeconds: number;
}

/** `GET /api/auth/session`: who is signed in. */
export interface SessionResponse {
  account: AccountView;
  sessionId: string;
}

/** A session as listed to its owner or an admin. */
export interface SessionSummary {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/** `GET /api/auth/sessions`: the caller's live sessions, the one making the request marked. */
export interface SessionListResponse {
  sessions: (SessionSummary & { current: boolean })[];
}
