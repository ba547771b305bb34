import type { Router } from '@koa/router';
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';
import { currentTenant, defineRoute, requestActor, type ApiContext } from '../http/route.js';
import { InvoiceArchiveRepository } from './invoice-archive.repository.js';
import { INVOICE_MEDIA_TYPES, InvoiceArchiveService } from './invoice-archive.service.js';

const MAX_FILE_BYTES = 25 * 1024 * 1024;
const tenantParams = z.object({ pharmacyId: z.uuid() });
const period = z
  .object({ from: z.iso.date(), to: z.iso.date() })
  .refine((p) => p.from <= p.to, { message: 'la fin de période précède son début', path: ['to'] });

/** Reads a raw (non-JSON) request body, refusing more than `limit` bytes. */
async function readRawBody(ctx: ApiContext, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new AppError(413, 'file_too_large', `Fichier trop volumineux (maximum ${Math.round(limit / 1048576)} Mo).`, 'file too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Invoice archive: file upload (pharmacy staff), listing, legal holds, verification and period export (pharmacy admin). */
export function registerInvoiceArchiveRoutes(router: Router, app: AppContext): void {
  const archive = new InvoiceArchiveService(app);
  const repo = () => new InvoiceArchiveRepository(app.db.manager);

  defineRoute(router, app, {
    method: 'PUT',
    path: '/api/pharmacies/:pharmacyId/invoices/:invoiceSourceId/file',
    permission: 'pharmacy.write',
    tenant: true,
    params: z.object({ pharmacyId: z.uuid(), invoiceSourceId: z.string().min(1).max(64) }),
    summary: 'Archive the source file of a supplier invoice (raw body, Content-Type of the file).',
    handler: async (ctx, { params }) => {
      const mediaType = (ctx.get('Content-Type') || '').split(';')[0]!.trim().toLowerCase();
      if (!INVOICE_MEDIA_TYPES[mediaType]) throw new AppError(415, 'unsupported_media_type', 'Format de fichier non accepté (PDF, XML, JPEG, PNG ou TIFF).', `media type ${mediaType}`);
      const bytes = await readRawBody(ctx, MAX_FILE_BYTES);
      const { entry, created } = await archive.archive(currentTenant(ctx).pharmacyId, params.invoiceSourceId, { bytes, mediaType }, requestActor(ctx));
      ctx.status = created ? 201 : 200;
      ctx.body = { created, seq: entry.seq, sha256: entry.fileSha256, retainUntil: entry.retainUntil, retention: entry.retention };
    },
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/pharmacies/:pharmacyId/invoice-archive',
    permission: 'pharmacy.read',
    tenant: true,
    params: tenantParams,
    query: z.object({ from: z.iso.date().optional(), to: z.iso.date().optional() }),
    summary: 'Archived invoices (optionally issued in a period), with retention and holds.',
    handler: async (ctx, { query }) => {
      const { pharmacyId } = currentTenant(ctx);
      const p = query.from && query.to ? { from: query.from, to: query.to } : undefined;
      return {
        entries: (await repo().list(pharmacyId, p)).map((e) => ({ seq: e.seq, invoiceSourceId: e.invoiceSourceId, invoiceNumber: e.invoiceNumber, issuedOn: e.issuedOn, fileName: e.fileName, sha256: e.fileSha256, retainUntil: e.retainUntil, purgedAt: e.purgedAt })),
        retentionParameters: await repo().allParameters(),
        holds: await repo().holds(pharmacyId),
      };
    },
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/pharmacies/:pharmacyId/invoice-archive/export',
    permission: 'pharmacy.admin',
    tenant: true,
    params: tenantParams,
    query: period,
    summary: 'Zip of a period with SHA256SUMS (verify with `sha256sum -c SHA256SUMS`).',
    handler: async (ctx, { query }) => {
      const { pharmacyId } = currentTenant(ctx);
      // Verify before any byte is sent, so a refusal is a clean JSON error.
      const v = await archive.verifyAndAlert(pharmacyId, requestActor(ctx));
      if (!v.ok) throw new AppError(409, 'archive_tampered', 'L’archive des factures a été altérée : export refusé. L’exploitant a été alerté.', `${v.problems.length} problem(s)`);
      const body = new PassThrough();
      ctx.set('Content-Disposition', `attachment; filename="factures-${query.from}_${query.to}.zip"`);
      ctx.type = 'application/zip';
      ctx.body = body;
      archive.exportPeriod(pharmacyId, query.from, query.to, body, requestActor(ctx)).catch((err: unknown) => {
        app.logger.error({ err }, 'invoice archive export failed');
        body.destroy(err as Error);
      });
    },
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/pharmacies/:pharmacyId/invoice-archive/verify',
    permission: 'pharmacy.admin',
    tenant: true,
    params: tenantParams,
    summary: 'Verify the chain and every archived file.',
    handler: async (ctx) => archive.verifyAndAlert(currentTenant(ctx).pharmacyId, requestActor(ctx)),
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/pharmacies/:pharmacyId/invoice-archive/holds',
    permission: 'pharmacy.admin',
    tenant: true,
    params: tenantParams,
    body: z
      .object({ reason: z.string().trim().min(10).max(2000), coversFrom: z.iso.date().optional(), coversTo: z.iso.date().optional() })
      .strict(),
    status: 201,
    summary: 'Place a legal hold (no purge while active).',
    handler: async (ctx, { body }) => ({ id: await archive.placeHold(currentTenant(ctx).pharmacyId, body, requestActor(ctx)) }),
  });

  defineRoute(router, app, {
    method: 'DELETE',
    path: '/api/pharmacies/:pharmacyId/invoice-archive/holds/:holdId',
    permission: 'pharmacy.admin',
    tenant: true,
    params: z.object({ pharmacyId: z.uuid(), holdId: z.uuid() }),
    summary: 'Release a legal hold.',
    handler: async (ctx, { params }) => {
      await archive.releaseHold(currentTenant(ctx).pharmacyId, params.holdId, requestActor(ctx));
    },
  });
}
