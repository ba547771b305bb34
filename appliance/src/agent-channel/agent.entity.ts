import { EntitySchema } from 'typeorm';

/** An enrolled pharmacy agent: its public key, key epoch and status. */
export interface Agent {
  pharmacyId: string;
  id: string;
  publicKey: Buffer;
  hostname: string | null;
  agentVersion: string | null;
  status: 'active' | 'revoked';
  epoch: number;
  epochStartedAt: Date;
  createdAt: Date;
  revokedAt: Date | null;
  revokedBy: string | null;
  lastSeenAt: Date | null;
  lastSummary: unknown;
  lastSummaryAt: Date | null;
}

export const AgentEntity = new EntitySchema<Agent>({
  name: 'Agent',
  tableName: 'agents',
  columns: {
    pharmacyId: { name: 'pharmacy_id', type: 'uuid', primary: true },
    id: { type: 'uuid', primary: true },
    publicKey: { name: 'public_key', type: 'bytea' },
    hostname: { type: 'text', nullable: true },
    agentVersion: { name: 'agent_version', type: 'text', nullable: true },
    status: { type: 'text' },
    epoch: { type: 'integer' },
    epochStartedAt: { name: 'epoch_started_at', type: 'timestamptz' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    revokedAt: { name: 'revoked_at', type: 'timestamptz', nullable: true },
    revokedBy: { name: 'revoked_by', type: 'uuid', nullable: true },
    lastSeenAt: { name: 'last_seen_at', type: 'timestamptz', nullable: true },
    lastSummary: { name: 'last_summary', type: 'jsonb', nullable: true },
    lastSummaryAt: { name: 'last_summary_at', type: 'timestamptz', nullable: true },
  },
});
