import { AgentEntity } from '../agent-channel/agent.entity.js';
import { UserEntity } from '../auth/user.entity.js';
import { GroupementEntity, PharmacyEntity } from '../tenancy/tenancy.entities.js';

/** Every TypeORM entity schema, registered once for the data source. */
export const entities = [GroupementEntity, PharmacyEntity, UserEntity, AgentEntity];
