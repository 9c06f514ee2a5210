/**
 * Who owns a QUEUED or RUNNING run: host, pid, process start and the `ImportState` instance.
 * Opening the state fails only the runs whose owner is gone, so the CLI and `eventlake serve`
 * can share one `import.db` without failing each other's live runs.
 *
 * @module
 */
import { hostname } from "node:os";
import process from "node:process";

/** The state instance that owns pending runs. */
export interface RunOwner {
  host: string;
  pid: number;
  /** When this process started (epoch ms): tells a reused pid from the original process. */
  start: number;
  /** Tells states of one process apart. */
  instance: string;
}

/** Instances of this process whose state is open. */
const openInstances = new Set<string>();

/** A new owner for a state being opened in this process (registered as open). */
export function newOwner(): RunOwner {
  let host = "unknown";
  try {
    host = hostname();
  } catch {
    // some runtimes do not expose a host name
  }
  const owner: RunOwner = {
    host,
    pid: typeof process.pid === "number" ? process.pid : 0,
    start: Math.round(performance.timeOrigin),
    instance: crypto.randomUUID(),
  };
  openInstances.add(owner.instance);
  return owner;
}

/** Marks an owner's state closed: its pending runs count as orphaned from now on. */
export function releaseOwner(owner: RunOwner): void {
  openInstances.delete(owner.instance);
}

/**
 * Whether the owner recorded as `token` is gone: none recorded, a closed state of this process,
 * this pid with another start time (a reused pid), or a pid on this host that no longer exists.
 * Another host's owner is never judged gone.
 */
export function ownerGone(token: string | null, self: RunOwner): boolean {
  let o: RunOwner;
  try {
    o = JSON.parse(token ?? "null") as RunOwner;
  } catch {
    return true;
  }
  if (o === null || typeof o !== "object" || !Number.isInteger(o.pid)) return true;
  if (o.host !== self.host || o.pid <= 0 || self.pid <= 0) return false;
  if (o.pid === self.pid) {
    if (Math.abs(o.start - self.start) > 1) return true;
    return !openInstances.has(o.instance);
  }
  try {
    process.kill(o.pid, 0);
    return false;
  } catch (e) {
    return (e as { code?: string }).code === "ESRCH";
  }
}
