import { BenchmarkConsentEntity, SalesRollupEntity } from '../analytics/analytics.entities.js';
import { AgentEntity } from '../agent-channel/agent.entity.js';
import { UserEntity } from '../auth/user.entity.js';
import { GenericGroupEntity, PharmacyProductEntity, ProductEntity, RegulatoryParameterEntity } from '../catalogue/catalogue.entities.js';
import {
  IngestBatchEntity,
  PurchaseLineEntity,
  QuarantineLineEntity,
  SalesLineEntity,
  StockSnapshotEntity,
  SupplierEntity,
  SupplierInvoiceEntity,
  SupplierInvoiceLineEntity,
} from '../ingest/ingest.entities.js';
import { GroupementEntity, PharmacyEntity } from '../tenancy/tenancy.entities.js';

/** Every TypeORM entity schema, registered once for the data source. */
export const entities = [
  GroupementEntity,
  PharmacyEntity,
  UserEntity,
  AgentEntity,
  ProductEntity,
  GenericGroupEntity,
  PharmacyProductEntity,
  RegulatoryParameterEntity,
  SupplierEntity,
  SalesLineEntity,
  PurchaseLineEntity,
  SupplierInvoiceEntity,
  SupplierInvoiceLineEntity,
  StockSnapshotEntity,
  IngestBatchEntity,
  QuarantineLineEntity,
  SalesRollupEntity,
  BenchmarkConsentEntity,
];
