import { ROLES, type Role } from './user.entity.js';

/** What a group admin may be granted by a pharmacy: aggregated figures only, or details too. */
export const GRANT_PERMISSIONS = ['aggregates', 'details'] as const;
export type GrantPermission = (typeof GRANT_PERMISSIONS)[number];

/** Where a permission applies: no login, the caller's own account/role, or one pharmacy (the tenant). */
export type PermissionScope = 'public' | 'global' | 'tenant';

/** One permission: who holds it, and for tenant permissions how outsiders may reach a pharmacy. */
export interface PermissionRule {
  scope: PermissionScope;
  /** Roles holding the permission. For tenant permissions, `user` and `pharmacy_admin` hold it on their own pharmacy only. */
  roles: readonly Role[];
  /** Tenant permissions: the grants (any of them) that let a group admin in. Empty: group admins never. */
  groupGrants?: readonly GrantPermission[];
  /** Tenant permissions: whether a super-admin under an active break-glass on that pharmacy holds it. */
  breakGlass?: boolean;
  description: string;
}

/**
 * THE policy: every permission a route can declare, and who holds it. This table is
 * the only place roles are mapped to rights; middleware and the route × role × tenant
 * matrix test both read it. Add a permission here (with a description) rather than
 * checking roles in a handler.
 */
export const POLICY = {
  public: {
    scope: 'public',
    roles: ROLES,
    description: 'No session needed (login, password reset, health).',
  },
  self: {
    scope: 'global',
    roles: ROLES,
    description: 'Any signed-in account, on its own account: profile, sessions, password, TOTP.',
  },
  'pharmacy.aggregates': {
    scope: 'tenant',
    roles: ROLES,
    groupGrants: ['aggregates', 'details'],
    breakGlass: true,
    description: 'Read aggregated figures of a pharmacy (dashboards, totals).',
  },
  'pharmacy.read': {
    scope: 'tenant',
    roles: ROLES,
    groupGrants: ['details'],
    breakGlass: true,
    description: 'Read detailed data of a pharmacy (lines, invoices, stock, exports).',
  },
  'pharmacy.write': {
    scope: 'tenant',
    roles: ['user', 'pharmacy_admin'],
    description: 'Change data of one’s own pharmacy.',
  },
  'pharmacy.admin': {
    scope: 'tenant',
    roles: ['pharmacy_admin'],
    description: 'Administer one’s own pharmacy: users, grants, agents, break-glass visibility.',
  },
  'group.read': {
    scope: 'global',
    roles: ['group_admin'],
    description: 'Groupement views over the pharmacies that granted the caller (filter with grantedPharmacyIds).',
  },
  'ops.admin': {
    scope: 'global',
    roles: ['super_admin'],
    description: 'Appliance operation: maintenance, backups, upgrades, break-glass, user administration.',
  },
} as const satisfies Record<string, PermissionRule>;

/** A permission name a route can declare. */
export type Permission = keyof typeof POLICY;

/** The rule for a permission (typed loosely so optional fields read uniformly). */
export function rule(permission: Permission): PermissionRule {
  return POLICY[permission];
}

/** Roles that must enrol TOTP before reaching anything but the enrolment routes. */
export const TOTP_REQUIRED_ROLES: readonly Role[] = ['pharmacy_admin', 'super_admin'];

/** Whether a role holds a permission at all (tenant membership, grants and break-glass are checked separately). */
export function roleHolds(role: Role, permission: Permission): boolean {
  return rule(permission).roles.includes(role);
}
