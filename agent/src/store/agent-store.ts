import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Cursor } from '../connectors/connector.js';
import { generateX25519, importPrivatePem, exportPrivatePem, type X25519KeyPair } from '../protocol/channel-crypto.js';
import type { SyncSummary } from '../protocol/messages.js';
import { writeFileDurable } from './durable-fs.js';
import { Spool } from './spool.js';

/** Default state directory (systemd StateDirectory=officine-agent). */
export const DEFAULT_AGENT_DIR = '/var/lib/officine-agent';

const sourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sqlite'), path: z.string().min(1) }),
  z.strictObject({ kind: z.literal('csv'), dir: z.string().min(1) }),
  z.strictObject({ kind: z.literal('postgres'), url: z.string().regex(/^postgres(ql)?:\/\//) }),
]);

/** The agent's configuration file (agent.json, 0600: it may hold an LGO database password). */
export const agentConfigSchema = z.strictObject({
  profile: z.string().min(1),
  source: sourceSchema,
  /** The only folders the agent may read files from. */
  roots: z.array(z.string().min(1)).default([]),
  batchSize: z.number().int().min(1).max(10_000).default(2000),
  pollSeconds: z.number().int().min(1).max(86_400).default(300),
  maxSpoolMB: z.number().int().min(1).max(100_000).default(1024),
  /** Refusals of one batch by the server (database error, invalid payload) before it is parked in the dead letters. */
  deadLetterAfter: z.number().int().min(1).max(1000).optional(),
  server: z.string().url().optional(),
  agentId: z.string().uuid().optional(),
  pharmacyId: z.string().uuid().optional(),
  serverPublicKey: z.string().optional(),
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** Default of `deadLetterAfter`: refusals of one batch before it is parked. */
export const DEAD_LETTER_AFTER = 5;

/** Mutable progress, rewritten durably after every step that must survive a crash. */
export interface AgentState {
  /** Ceiling of the counters reserved for outgoing messages (persisted before any is sent). */
  counter: number;
  /** Highest server counter seen in an authenticated answer. */
  serverCounter: number;
  epoch: number;
  cursors: Record<string, Cursor>;
  lastSyncAt: string | null;
  lastAckAt: string | null;
  lastSummary: SyncSummary | null;
  withheldTotal: Record<string, number>;
  revoked: boolean;
  lastError: string | null;
}

const EMPTY_STATE: AgentState = {
  counter: 0, serverCounter: 0, epoch: 1, cursors: {}, lastSyncAt: null, lastAckAt: null,
  lastSummary: null, withheldTotal: {}, revoked: false, lastError: null,
};

/** Thrown for a problem the operator must fix (French message). */
export class AgentSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentSetupError';
  }
}

function assertPrivate(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new AgentSetupError(`${path} a les droits ${mode.toString(8)} : exigez 0600 (chmod 600 ${path}).`);
  }
}

/**
 * Everything the agent keeps on disk, in one directory (0700): agent.json (0600),
 * agent-key.pem (0600, X25519 private key), state.json and the spool. Refuses
 * config and key files readable by others.
 */
export class AgentStore {
  readonly configPath: string;
  readonly keyPath: string;
  readonly statePath: string;
  private spoolInstance: Spool | undefined;

  constructor(readonly dir: string) {
    this.configPath = join(dir, 'agent.json');
    this.keyPath = join(dir, 'agent-key.pem');
    this.statePath = join(dir, 'state.json');
  }

  ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
  }

  hasConfig(): boolean {
    return existsSync(this.configPath);
  }

  readConfig(): AgentConfig {
    if (!existsSync(this.configPath)) throw new AgentSetupError(`Agent non configuré : ${this.configPath} absent (lancez « officine-agent configure »).`);
    assertPrivate(this.configPath);
    const parsed = agentConfigSchema.safeParse(JSON.parse(readFileSync(this.configPath, 'utf8')));
    if (!parsed.success) throw new AgentSetupError(`Configuration invalide : ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return parsed.data;
  }

  writeConfig(config: AgentConfig): void {
    this.ensureDir();
    writeFileDurable(this.configPath, JSON.stringify(agentConfigSchema.parse(config), null, 2) + '\n');
  }

  /** Creates the agent's X25519 key pair (refuses to overwrite an existing one). */
  createKey(): X25519KeyPair {
    this.ensureDir();
    if (existsSync(this.keyPath)) throw new AgentSetupError(`Une clé existe déjà (${this.keyPath}) : cet agent est déjà enrôlé.`);
    const kp = generateX25519();
    writeFileDurable(this.keyPath, exportPrivatePem(kp.privateKey));
    return kp;
  }

  readKey(): X25519KeyPair {
    if (!existsSync(this.keyPath)) throw new AgentSetupError('Agent non enrôlé : clé absente (lancez « officine-agent enroll »).');
    assertPrivate(this.keyPath);
    return importPrivatePem(readFileSync(this.keyPath));
  }

  readState(): AgentState {
    if (!existsSync(this.statePath)) return structuredClone(EMPTY_STATE);
    return { ...structuredClone(EMPTY_STATE), ...(JSON.parse(readFileSync(this.statePath, 'utf8')) as Partial<AgentState>) };
  }

  writeState(state: AgentState): void {
    this.ensureDir();
    writeFileDurable(this.statePath, JSON.stringify(state));
  }

  spool(): Spool {
    this.spoolInstance ??= new Spool(join(this.dir, 'spool'));
    return this.spoolInstance;
  }
}
