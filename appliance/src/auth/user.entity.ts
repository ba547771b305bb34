import { EntitySchema } from 'typeorm';
import type { SameUnion } from '../http/wire.api.js';
import type { Role } from './auth.api.js';

/** Every role, for policies, the console and the route matrix (the union is declared with the API shapes). */
export const ROLES = ['user', 'pharmacy_admin', 'group_admin', 'super_admin'] as const;
type _RolesListed = SameUnion<(typeof ROLES)[number], Role>;
export type { Role };

/** An account on the appliance. Emails are stored lower-cased. */
export interface User {
  id: string;
  email: string;
  displayName: string;
  passwordHash: string;
  role: Role;
  pharmacyId: string | null;
  groupementId: string | null;
  status: 'pending' | 'active' | 'disabled';
  createdAt: Date;
  updatedAt: Date;
}

export const UserEntity = new EntitySchema<User>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    email: { type: 'text' },
    displayName: { name: 'display_name', type: 'text' },
    passwordHash: { name: 'password_hash', type: 'text', select: false },
    role: { type: 'text' },
    pharmacyId: { name: 'pharmacy_id', type: 'uuid', nullable: true },
    groupementId: { name: 'groupement_id', type: 'uuid', nullable: true },
    status: { type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});
