import { EntitySchema } from 'typeorm';

/** A groupement: the pharmacy group that runs this appliance. */
export interface Groupement {
  id: string;
  name: string;
  createdAt: Date;
}

/** A pharmacy: the tenant. Every tenant-owned row carries its id. */
export interface Pharmacy {
  id: string;
  groupementId: string;
  name: string;
  finess: string;
  address: string | null;
  createdAt: Date;
}

export const GroupementEntity = new EntitySchema<Groupement>({
  name: 'Groupement',
  tableName: 'groupements',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    name: { type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});

export const PharmacyEntity = new EntitySchema<Pharmacy>({
  name: 'Pharmacy',
  tableName: 'pharmacies',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    groupementId: { name: 'groupement_id', type: 'uuid' },
    name: { type: 'text' },
    finess: { type: 'char', length: 9 },
    address: { type: 'text', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});
