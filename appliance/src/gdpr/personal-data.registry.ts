/**
 * How a personal column appears in the user's export: its value, or only whether
 * it is set (password hash, sealed TOTP seed: personal, but handing them out would
 * weaken the account).
 */
export type ExportMode = 'value' | 'presence';

/** What erasure does to the rows of one link. */
export type ErasureAction =
  /** users: the row stays as a tombstone (ids referenced elsewhere) with every personal column overwritten. */
  | 'anonymise'
  /** rows are deleted. */
  | 'delete'
  /** rows stay (security or legal record, no personal text once the account is a tombstone). */
  | 'keep';

/** One way rows of a table belong to a user (a foreign key to users.id, or users itself). */
export interface PersonalDataLink {
  table: string;
  /** Column holding the user's id (`id` for users). */
  userColumn: string;
  /** Label shown in the export (French). */
  label: string;
  /** Columns exported for the user, with how. */
  personal: Record<string, ExportMode>;
  /** Text columns of the table that are NOT exported on this link, each with the reason. */
  notPersonal: Record<string, string>;
  erasure: ErasureAction;
}

/**
 * THE declared list of personal data about platform users: every table linked to
 * users.id and, per link, which columns are the user's personal data. The export
 * reads it; a test checks it against the live schema, so a new user-linked table
 * or a new text column cannot be forgotten.
 */
export const PERSONAL_DATA: readonly PersonalDataLink[] = [
  {
    table: 'users',
    userColumn: 'id',
    label: 'Compte',
    personal: {
      id: 'value', email: 'value', display_name: 'value', role: 'value', status: 'value', pharmacy_id: 'value', groupement_id: 'value',
      created_at: 'value', updated_at: 'value', email_verified_at: 'value', password_changed_at: 'value', password_hash: 'presence',
      totp_secret_enc: 'presence', totp_pending_secret_enc: 'presence', totp_enabled_at: 'value', last_login_at: 'value',
      inactivity_warned_at: 'value', erasure_requested_at: 'value', erased_at: 'value', email_opt_out: 'value',
    },
    notPersonal: {},
    erasure: 'anonymise',
  },
  {
    table: 'sessions',
    userColumn: 'user_id',
    label: 'Sessions',
    personal: { id: 'value', created_at: 'value', last_seen_at: 'value', expires_at: 'value', revoked_at: 'value', revoked_reason: 'value', ip: 'value', user_agent: 'value' },
    notPersonal: {},
    erasure: 'delete',
  },
  {
    table: 'auth_tokens',
    userColumn: 'user_id',
    label: 'Liens envoyés par e-mail (activation, réinitialisation)',
    personal: { purpose: 'value', created_at: 'value', expires_at: 'value', used_at: 'value' },
    notPersonal: {},
    erasure: 'delete',
  },
  {
    table: 'totp_recovery_codes',
    userColumn: 'user_id',
    label: 'Codes de secours TOTP',
    personal: { created_at: 'value', used_at: 'value' },
    notPersonal: {},
    erasure: 'delete',
  },
  {
    table: 'group_admin_grants',
    userColumn: 'grantee_user_id',
    label: 'Accès accordés par des pharmacies',
    personal: { id: 'value', pharmacy_id: 'value', permission: 'value', granted_at: 'value', revoked_at: 'value' },
    notPersonal: {},
    erasure: 'keep',
  },
  {
    table: 'group_admin_grants',
    userColumn: 'granted_by',
    label: 'Accès que vous avez accordés',
    personal: { id: 'value', pharmacy_id: 'value', permission: 'value', granted_at: 'value' },
    notPersonal: {},
    erasure: 'keep',
  },
  {
    table: 'group_admin_grants',
    userColumn: 'revoked_by',
    label: 'Accès que vous avez révoqués',
    personal: { id: 'value', pharmacy_id: 'value', permission: 'value', revoked_at: 'value' },
    notPersonal: {},
    erasure: 'keep',
  },
  {
    table: 'break_glass_sessions',
    userColumn: 'user_id',
    label: 'Accès d’urgence ouverts',
    personal: { id: 'value', pharmacy_id: 'value', reason: 'value', opened_at: 'value', expires_at: 'value', closed_at: 'value' },
    notPersonal: {},
    erasure: 'keep',
  },
  {
    table: 'break_glass_sessions',
    userColumn: 'closed_by',
    label: 'Accès d’urgence fermés',
    personal: { id: 'value', pharmacy_id: 'value', closed_at: 'value' },
    notPersonal: { reason: 'written by the super-admin who opened the access, about the incident' },
    erasure: 'keep',
  },
  {
    table: 'agents',
    userColumn: 'revoked_by',
    label: 'Agents de pharmacie que vous avez révoqués',
    personal: { pharmacy_id: 'value', id: 'value', revoked_at: 'value' },
    notPersonal: {
      hostname: 'name of the pharmacy computer running the agent, not of a person',
      agent_version: 'software version',
      status: 'state of the agent',
      last_summary: 'the agent’s extraction summary (commercial data counts)',
    },
    erasure: 'keep',
  },
  {
    table: 'agent_enrolment_codes',
    userColumn: 'created_by',
    label: 'Codes d’enrôlement d’agent que vous avez créés',
    personal: { pharmacy_id: 'value', id: 'value', created_at: 'value', expires_at: 'value', used_at: 'value' },
    notPersonal: {},
    erasure: 'keep',
  },
  {
    table: 'legal_holds',
    userColumn: 'placed_by',
    label: 'Gels juridiques posés',
    personal: { id: 'value', pharmacy_id: 'value', placed_at: 'value' },
    notPersonal: { reason: 'legal justification about the pharmacy’s invoices, a business record kept with the archive' },
    erasure: 'keep',
  },
  {
    table: 'legal_holds',
    userColumn: 'released_by',
    label: 'Gels juridiques levés',
    personal: { id: 'value', pharmacy_id: 'value', released_at: 'value' },
    notPersonal: { reason: 'legal justification about the pharmacy’s invoices, a business record kept with the archive' },
    erasure: 'keep',
  },
];

