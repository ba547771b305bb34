import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppContext } from './app-context.js';
import { createApp, type AppOptions } from './app.js';

/** A listening HTTP server and its base URL. */
export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Listens on the configured loopback host and port (0 picks a free port). */
export function startHttpServer(app: AppContext, opts: AppOptions = {}): Promise<RunningServer> {
  const koa = createApp(app, opts);
  return new Promise((resolve, reject) => {
    const server = koa.listen(app.config.PORT, app.config.HOST);
    server.once('error', reject);
    server.once('listening', () => {
      server.keepAliveTimeout = 65_000;
      server.headersTimeout = 66_000;
      server.requestTimeout = 120_000;
      const addr = server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({
        server,
        url: `http://${host}:${addr.port}`,
        close: () =>
          new Promise<void>((res) => {
            server.close(() => res());
            server.closeIdleConnections();
          }),
      });
    });
  });
}
