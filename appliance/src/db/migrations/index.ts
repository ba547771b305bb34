import { Foundation1763712000000 } from './1763712000000-foundation.js';
import { AgentChannel1763740000000 } from './1763740000000-agent-channel.js';

/**
 * Every migration, in order. Listed explicitly (no glob) so the compiled bundle,
 * the tests and `appliance migrate` all see exactly the same set.
 */
export const migrations = [Foundation1763712000000, AgentChannel1763740000000];
