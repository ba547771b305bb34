/** Minimal typing of the s3rver test server (it ships none). */
declare module 's3rver' {
  export default class S3rver {
    constructor(opts: Record<string, unknown>);
    run(): Promise<{ port: number; address: string }>;
    close(): Promise<void>;
    on(event: 'event', fn: (e: never) => void): void;
  }
}
