import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newSecret } from './secrets.ts';

/** The built-in platform-admin client: whoever can read the data directory administers the platform. */
export interface AdminCredential {
  clientId: string;
  clientSecret: string;
}

export const ADMIN_CLIENT_ID = 'healthbrain-admin';

export function adminCredentialPath(dataDir: string): string {
  return join(dataDir, 'admin.json');
}

/** Reads `<dataDir>/admin.json`; undefined when it does not exist yet. */
export function readAdminCredential(dataDir: string): AdminCredential | undefined {
  try {
    const j = JSON.parse(readFileSync(adminCredentialPath(dataDir), 'utf8')) as { client_id?: string; client_secret?: string };
    if (!j.client_id || !j.client_secret) throw new Error(`${adminCredentialPath(dataDir)} lacks client_id/client_secret`);
    return { clientId: j.client_id, clientSecret: j.client_secret };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Reads the admin credential, creating it (mode 0600) on first start. */
export function loadOrCreateAdminCredential(dataDir: string): AdminCredential {
  const existing = readAdminCredential(dataDir);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  const cred = { client_id: ADMIN_CLIENT_ID, client_secret: newSecret() };
  try {
    writeFileSync(adminCredentialPath(dataDir), JSON.stringify(cred, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(adminCredentialPath(dataDir), 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readAdminCredential(dataDir)!;
}
