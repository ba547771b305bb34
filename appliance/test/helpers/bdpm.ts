import { resolve } from 'node:path';

/** The real BDPM extract shipped beside the repository (../shared/data/bdpm), or $OFFICINE_BDPM_DIR. */
export const BDPM_DIR = process.env.OFFICINE_BDPM_DIR ?? resolve(import.meta.dirname, '../../../../../shared/data/bdpm');
