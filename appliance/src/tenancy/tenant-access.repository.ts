import type { EntityManager } from 'typeorm';
import type { GrantPermission } from '../auth/policy.js';

/** SQL the tenant-context middleware needs: the pharmacy, a group admin's grants, a super-admin's break-glass. */
export class TenantAccessRepository {
  constructor(private readonly m: EntityManager) {}

  async pharmacy(pharmacyId: string): Promise<{ id: string; groupementId: string } | undefined> {
    const rows = (await this.m.query(`SELECT id, groupement_id AS "groupementId" FROM pharmacies WHERE id = $1`, [pharmacyId])) as {
      id: string;
      groupementId: string;
    }[];
    return rows[0];
  }

  /** Whether a group admin holds any of `permissions` on the pharmacy (active grant). */
  async hasGrant(pharmacyId: string, granteeUserId: string, permissions: readonly GrantPermission[]): Promise<boolean> {
    if (permissions.length === 0) return false;
    const rows = (await this.m.query(
      `SELECT 1 FROM group_admin_grants WHERE pharmacy_id = $1 AND grantee_user_id = $2 AND permission = ANY($3::text[]) AND revoked_at IS NULL LIMIT 1`,
      [pharmacyId, granteeUserId, permissions],
    )) as unknown[];
    return rows.length > 0;
  }

  /** Pharmacies a group admin may see for `permissions`: the filter for groupement-wide queries. */
  async grantedPharmacyIds(granteeUserId: string, permissions: readonly GrantPermission[]): Promise<string[]> {
    const rows = (await this.m.query(
      `SELECT DISTINCT pharmacy_id AS id FROM group_admin_grants WHERE grantee_user_id = $1 AND permission = ANY($2::text[]) AND revoked_at IS NULL ORDER BY 1`,
      [granteeUserId, permissions],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** The super-admin's active break-glass on the pharmacy, if any. */
  async activeBreakGlass(pharmacyId: string, userId: string, now: Date): Promise<{ id: string; expiresAt: Date } | undefined> {
    const rows = (await this.m.query(
      `SELECT id, expires_at AS "expiresAt" FROM break_glass_sessions
        WHERE pharmacy_id = $1 AND user_id = $2 AND closed_at IS NULL AND opened_at <= $3 AND expires_at > $3
        ORDER BY expires_at DESC LIMIT 1`,
      [pharmacyId, userId, now],
    )) as { id: string; expiresAt: Date }[];
    return rows[0];
  }
}
