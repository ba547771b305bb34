import { Foundation1763712000000 } from './1763712000000-foundation.js';
import { Identity1763720000000 } from './1763720000000-identity.js';
import { BackupAndJobs1763750000000 } from './1763750000000-backup-and-jobs.js';
import { PharmacyData1763730000000 } from './1763730000000-pharmacy-data.js';
import { AgentChannel1763740000000 } from './1763740000000-agent-channel.js';
import { Ops1763760000000 } from './1763760000000-ops.js';
import { DataProtection1763780000000 } from './1763780000000-data-protection.js';
import { DropAgentStagedRows1763790005000 } from './1763790005000-drop-agent-staged-rows.js';

/**
 * Every migration, in order. Listed explicitly (no glob) so the compiled bundle,
 * the tests and `appliance migrate` all see exactly the same set.
 */
export const migrations = [
  Foundation1763712000000,
  Identity1763720000000,
  PharmacyData1763730000000,
  AgentChannel1763740000000,
  BackupAndJobs1763750000000,
  Ops1763760000000,
  DataProtection1763780000000,
  DropAgentStagedRows1763790005000,
];
