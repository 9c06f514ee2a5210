/**
 * Secrets at rest: credential secrets are stored as SHA-256 digests (they are 240-bit random
 * strings, so a plain digest is enough; no password stretching is needed) and compared in
 * constant time; MySQL passwords are encrypted with AES-256-GCM under a key derived from the
 * configured encryption key.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { InternalError } from "@eventlake/schema";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `length` random letters and digits, uniformly drawn (rejection sampling). */
export function randomAlphanumeric(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 * 62: bytes at or above it would bias the draw.
      if (byte < 248) out += ALPHANUMERIC[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** The stored form of a credential secret. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Compares a presented secret with a stored digest in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Derives the 32-byte AES key from the configured key (string or bytes, at least 16 bytes). */
export function deriveKey(key: string | Uint8Array): Uint8Array {
  const bytes = typeof key === "string" ? new TextEncoder().encode(key) : key;
  if (bytes.length < 16) {
    throw new TypeError("Invalid encryptionKey: must be at least 16 bytes");
  }
  return createHash("sha256").update("eventlake.dataquery.secrets/1\0").update(bytes).digest();
}

/** Encrypts `plain` as `v1:<iv>:<tag>:<ciphertext>` (base64 parts). */
export function encryptSecret(key: Uint8Array, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ["v1", iv.toString("base64"), tag.toString("base64"), body.toString("base64")].join(":");
}

/** Decrypts what {@linkcode encryptSecret} produced; a wrong key is an `InternalError`. */
export function decryptSecret(key: Uint8Array, sealed: string): string {
  const [version, iv, tag, body] = sealed.split(":");
  try {
    if (version !== "v1") throw new Error(`unknown format "${version}"`);
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
    decipher.setAuthTag(Buffer.from(tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()])
      .toString("utf8");
  } catch (cause) {
    throw new InternalError(
      "Cannot decrypt a stored data source password: the encryption key changed or the state is damaged",
      { cause },
    );
  }
}
