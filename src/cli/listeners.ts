import type { AppDeps } from '../api/index.ts';
import { mllpListener } from './mllp-listener.ts';

/** A running listener, stopped on shutdown. */
export interface Running {
  close(): Promise<void>;
  /** What to print once started, e.g. 'MLLP on 127.0.0.1:2575'. */
  description?: string;
}

/**
 * Something `healthbrain serve` starts alongside HTTP, given the same deps (HL7 v2 MLLP listener, feed watchers, …).
 *
 * To add one (e.g. the ingestion module's MLLP listener): export a Listener from your module's file, add ONE import and
 * ONE entry to `listeners` below. Declare your command-line options in `options`; `serve` adds them to its own, and
 * the ones config knows (`--mllp-port` → `deps.config.mllpPort`) arrive through `deps.config`, the others through `opts`
 * (camel-cased as commander does). Return undefined from `start` when your options ask for nothing to be started.
 */
export interface Listener {
  name: string;
  options?: Array<{ flags: string; description: string }>;
  start(deps: AppDeps, opts: Record<string, unknown>): Promise<Running | undefined>;
}

export const listeners: Listener[] = [mllpListener];
