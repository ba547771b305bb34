import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppContext } from './app-context.js';
import { appServices, createApp, type AppOptions } from './app.js';

/** A listening HTTP server and its base URL. */
export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the app's background services, then listens on the configured loopback
 * host and port (0 picks a free port). `close()` stops both.
 */
export async function startHttpServer(app: AppContext, opts: AppOptions = {}): Promise<RunningServer> {
  const koa = createApp(app, opts);
  const stops: (() => Promise<void>)[] = [];
  const stopServices = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  for (const start of appServices) stops.push(await start(app));
  return new Promise((resolve, reject) => {
    const server = koa.listen(app.config.PORT, app.config.HOST);
    server.once('error', (err) => void stopServices().finally(() => reject(err)));
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
            server.close(() => void stopServices().finally(res));
            server.closeIdleConnections();
          }),
      });
    });
  });
}
