export type { Db, Queryable, QueryOptions, QueryResult } from './db.ts';
export { copyText, isTransientConflict } from './db.ts';
export { migrate } from './migrate.ts';
export { Unavailable } from './unavailable.ts';
export { openDb, type OpenOptions } from './open.ts';
export { cipherColumns, keyStatus, reencryptAll, rotateFieldKeys, versionCounts, type KeyStatus, type ReencryptResult, type RotationResult } from './reencrypt.ts';
