import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { sharedSecret, type X25519KeyPair } from '../protocol/channel-crypto.js';
import { AGENT_API, enrolResponseSchema, type EnrolResponse } from '../protocol/messages.js';
import { AgentSetupError, type AgentStore } from '../store/agent-store.js';
import { ChannelClient, serverUrlAllowed } from './channel-client.js';

export const AGENT_VERSION = '0.1.0';

/**
 * Enrols this agent: generates its X25519 key pair (0600), redeems the one-time
 * code against the appliance, stores the server's public key and the agent id in
 * agent.json (0600), then proves the channel works with a sealed hello.
 */
export async function enrolAgent(store: AgentStore, server: string, code: string): Promise<EnrolResponse> {
  if (!serverUrlAllowed(server)) throw new AgentSetupError('Adresse du serveur refusée : HTTPS obligatoire (HTTP seulement sur la boucle locale).');
  const config = store.readConfig();
  if (config.agentId) throw new AgentSetupError(`Cet agent est déjà enrôlé (agent ${config.agentId}).`);
  const kp = store.createKey();
  try {
    return await redeem(store, server, code, kp);
  } catch (err) {
    // Nothing was enrolled with this key: remove it so the installer can simply try again.
    if (!store.readConfig().agentId) rmSync(store.keyPath, { force: true });
    throw err;
  }
}

async function redeem(store: AgentStore, server: string, code: string, kp: X25519KeyPair): Promise<EnrolResponse> {
  const config = store.readConfig();
  let res: Response;
  try {
    res = await fetch(new URL(AGENT_API.enrol, server), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: code.trim(), agentPublicKey: kp.publicKeyRaw.toString('base64url'), hostname: hostname().slice(0, 200), agentVersion: AGENT_VERSION }),
      redirect: 'error',
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new AgentSetupError(`Serveur injoignable : ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string; code?: string } };
  if (!res.ok) throw new AgentSetupError(`Enrôlement refusé (${body.error?.code ?? res.status}) : ${body.error?.message ?? ''}`);
  const enrolled = enrolResponseSchema.parse(body);
  sharedSecret(kp.privateKey, Buffer.from(enrolled.serverPublicKey, 'base64url')); // refuses a degenerate server key
  store.writeConfig({ ...config, server, agentId: enrolled.agentId, pharmacyId: enrolled.pharmacyId, serverPublicKey: enrolled.serverPublicKey });
  const state = store.readState();
  state.epoch = enrolled.epoch;
  store.writeState(state);
  const client = new ChannelClient(store, store.readConfig(), state);
  await client.sendPayload({ type: 'hello', agentVersion: AGENT_VERSION });
  return enrolled;
}
