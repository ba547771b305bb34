import {
  DeleteObjectsCommand,
  GetBucketEncryptionCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { readAll, type BackupTarget, type TargetReport } from './backup-target.js';

/** Connection settings for S3-compatible object storage (Scaleway by default). */
export interface S3Settings {
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  checksums: 'when_supported' | 'when_required';
}

const MIB = 1024 * 1024;
/** Scaleway accepts at most 1000 parts per multipart upload (AWS: 10 000). */
export const MAX_PARTS = 1000;

/** Multipart part size for an upload of at most `sizeHint` bytes: ≥ 5 MiB and ≥ size/1000. */
export function partSizeFor(sizeHint: number): number {
  return Math.max(5 * MIB, Math.ceil(sizeHint / MAX_PARTS / MIB) * MIB);
}

/**
 * Object storage target. Uploads are multipart with SHA-256 part checksums (when the
 * service supports them), parts sized from an upper estimate so a backup never
 * exceeds the part limit, and the bucket's default encryption and versioning are
 * checked and reported before each run.
 */
export class S3Target implements BackupTarget {
  readonly name = 's3';
  private readonly client: S3Client;

  constructor(private readonly s: S3Settings) {
    this.client = new S3Client({
      endpoint: s.endpoint,
      region: s.region,
      forcePathStyle: s.forcePathStyle,
      credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
      requestChecksumCalculation: s.checksums === 'when_supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
      responseChecksumValidation: s.checksums === 'when_supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
  }

  private key(k: string): string {
    return this.s.prefix + k;
  }

  async check(): Promise<TargetReport> {
    const details: TargetReport['details'] = { endpoint: this.s.endpoint, bucket: this.s.bucket };
    const warnings: string[] = [];
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.s.bucket }));
    } catch (err) {
      return { target: this.name, ok: false, details: { ...details, error: (err as Error).name || (err as Error).message }, warnings };
    }
    try {
      const enc = await this.client.send(new GetBucketEncryptionCommand({ Bucket: this.s.bucket }));
      const alg = enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm;
      details.defaultEncryption = alg ?? 'none';
      if (!alg) warnings.push('bucket_encryption_off');
    } catch {
      details.defaultEncryption = 'unknown';
      warnings.push('bucket_encryption_unknown');
    }
    try {
      const v = await this.client.send(new GetBucketVersioningCommand({ Bucket: this.s.bucket }));
      details.versioning = v.Status ?? 'Disabled';
      if (v.Status !== 'Enabled') warnings.push('bucket_versioning_off');
    } catch {
      details.versioning = 'unknown';
      warnings.push('bucket_versioning_unknown');
    }
    return { target: this.name, ok: true, details, warnings };
  }

  async put(key: string, body: Readable, opts: { sizeHint?: number } = {}): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.s.bucket,
        Key: this.key(key),
        Body: body,
        ...(this.s.checksums === 'when_supported' ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
      },
      partSize: partSizeFor(opts.sizeHint ?? 0),
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async putBuffer(key: string, data: Buffer): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.s.bucket,
        Key: this.key(key),
        Body: data,
        ...(this.s.checksums === 'when_supported' ? { ChecksumAlgorithm: 'SHA256' as const } : {}),
      }),
    );
  }

  async get(key: string): Promise<Readable> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.s.bucket, Key: this.key(key) }));
    return r.Body as Readable;
  }

  async getBuffer(key: string): Promise<Buffer> {
    return readAll(await this.get(key));
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.s.bucket, Key: this.key(key) }));
      return { size: r.ContentLength ?? 0 };
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
      throw err;
    }
  }

  private async listAll(prefix: string, delimiter: string | undefined): Promise<{ keys: string[]; prefixes: string[] }> {
    const keys: string[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.s.bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }),
      );
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
      for (const p of r.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return { keys, prefixes };
  }

  async list(dir: string): Promise<string[]> {
    const prefix = this.key(dir.replace(/\/?$/, '/'));
    const { keys, prefixes } = await this.listAll(prefix, '/');
    return [...keys, ...prefixes.map((p) => p.slice(0, -1))].map((k) => k.slice(prefix.length)).filter(Boolean).sort();
  }

  async delete(key: string, opts: { recursive?: boolean } = {}): Promise<void> {
    const keys = opts.recursive ? (await this.listAll(this.key(key.replace(/\/?$/, '/')), undefined)).keys : [this.key(key)];
    for (let i = 0; i < keys.length; i += 1000) {
      await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.s.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }),
      );
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
