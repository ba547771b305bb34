import { AppError } from '../http/errors.js';

/**
 * A backup, restore or drill refusal with a stable code (for logs, alerts and
 * tests) and a French message for the operator.
 */
export class BackupError extends AppError {
  constructor(code: string, frenchMessage: string, englishDetail?: string) {
    super(500, code, frenchMessage, englishDetail ?? code);
    this.name = 'BackupError';
  }
}

export { describeError } from '../http/errors.js';
