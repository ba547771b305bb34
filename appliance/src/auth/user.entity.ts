import { EntitySchema } from 'typeorm';

export const ROLES = ['user', 'pharmacy_admin', 'group_admin', 'super_admin'] as const;
export type Role = (typeof ROLES)[number];

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
