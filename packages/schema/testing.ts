/**
 * Realistic, deterministic events for tests and benchmarks of every eventlake package.
 *
 * ```ts
 * import { generateEvents } from "@eventlake/schema/testing";
 * ```
 *
 * @module
 */

import type { Event, EventMap } from "./event.ts";
import { parseTimestamp } from "./timestamp.ts";

/** Options of {@linkcode generateEvents} and {@linkcode createEventGenerator}. */
export interface GenerateEventsOptions {
  /** Seed of the pseudo-random sequence: the same seed gives the same events. Default `1`. */
  seed?: number;
  /** UTC day (`YYYY-MM-DD`) every `ts` falls in. Default `"2023-01-01"`. */
  day?: string;
  /**
   * Range `[min, max]` of keys in each `event_properties` and `user_properties` map
   * (max at most 12). About one map in ten is empty regardless. Default `[3, 6]`.
   */
  mapKeys?: readonly [number, number];
  /** Number of distinct users (identifiers and platform) events are spread over. Default `1000`. */
  users?: number;
}

/** Makes one event per call; see {@linkcode createEventGenerator}. */
export type EventGenerator = () => Event;

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
/** Char codes of `0-9a-f`. */
const HEX_CODES = new Uint8Array([
  48,
  49,
  50,
  51,
  52,
  53,
  54,
  55,
  56,
  57,
  97,
  98,
  99,
  100,
  101,
  102,
]);
/** Char code of the hex digit of `value` at bit `shift`. */
const hexCode = (value: number, shift: number): number => HEX_CODES[(value >>> shift) & 15];
const HEX_UPPER: string[] = HEX.map((h) => h.toUpperCase());

const EVENT_KEYS = [
  "purchase",
  "view_item",
  "add_to_cart",
  "login",
  "$page_view",
  "search",
  "$session_start",
  "app_open",
  "click_banner",
  "scroll",
  "sign_up",
  "장바구니_담기",
];

const CATEGORIES = ["LEISURE", "FOOD", "BEAUTY", "FASHION", "가전", "도서", "キッチン", "café"];
const SEARCH_TERMS = ["shoes", "운동화", "노트북", "iphone case", "コーヒー", "😀 emoji", "tea"];
const CURRENCIES = ["KRW", "USD", "JPY", "EUR"];
const PAGES = ["/home", "/product/33537", "/cart", "/search?q=%EC%9A%B4%EB%8F%99%ED%99%94", "/my"];
const GRADES = ["GOLD", "SILVER", "BRONZE", "VIP", "일반"];
const CITIES = ["Seoul", "서울", "Busan", "부산", "Tokyo", "東京", "New York"];

const EVENT_PROPERTY_KEYS = [
  "product_id",
  "product_category",
  "order_id",
  "price",
  "quantity",
  "currency",
  "page",
  "search_term",
  "banner_id",
  "coupon",
  "position",
  "referrer",
];
const USER_PROPERTY_KEYS = [
  "grade",
  "date_signed",
  "date_recent",
  "age_group",
  "gender",
  "city",
  "membership",
  "marketing_opt_in",
  "first_seen",
  "plan",
  "points",
  "nickname",
];
const MAX_MAP_KEYS = 12;

interface User {
  id: string;
  deviceId: string;
  userId: string | undefined;
  sessionId: string;
  gaSessionId: string | undefined;
  android: boolean;
  appversion: string;
  language: string;
  osversion: string;
  versionname: string;
  devicemodel: string;
}

/**
 * Creates a deterministic generator of valid, realistic events: random (seeded) UUIDs, `ts`
 * within `day`, event keys and properties like the Data Import document's examples, Android and
 * iOS platform properties, identifiers with `id` and `device_id` (and often `user_id`,
 * `session_id`, sometimes `ga_session_id`), `metric_value` mostly `0`, often a price, sometimes
 * negative or with 6 fraction digits, and about one in a hundred with 18 integer digits;
 * non-ASCII strings and empty property maps now and then. Property values are drawn from seeded
 * pools of 256 per key, as a day's events repeat their products and grades. Every event passes
 * `checkEvent`. Throws a `RangeError` for an invalid option.
 *
 * @example
 * ```ts
 * import { createEventGenerator } from "@eventlake/schema/testing";
 * const next = createEventGenerator({ seed: 7, day: "2023-01-01" });
 * const a = next();
 * console.log(a.ts >= Date.UTC(2023, 0, 1) && a.ts < Date.UTC(2023, 0, 2)); // true
 * console.log(createEventGenerator({ seed: 7 })().insert_id === a.insert_id); // true
 * ```
 */
export function createEventGenerator(options: GenerateEventsOptions = {}): EventGenerator {
  const seed = options.seed ?? 1;
  if (!Number.isFinite(seed)) {
    throw new RangeError(`Cannot generate events: seed ${seed} is not a finite number`);
  }
  const day = options.day ?? "2023-01-01";
  const start = /^\d{4}-\d{2}-\d{2}$/.test(day) ? parseTimestamp(`${day}T00:00:00Z`) : undefined;
  if (start === undefined || !start.ok || start.value + 86_399_999 > 253402300799999) {
    throw new RangeError(
      `Cannot generate events: day "${day}" is not a UTC day such as "2023-01-01"`,
    );
  }
  const dayStart = start.value;
  const [minKeys, maxKeys] = options.mapKeys ?? [3, 6];
  if (
    !Number.isInteger(minKeys) || !Number.isInteger(maxKeys) || minKeys < 0 || maxKeys < minKeys ||
    maxKeys > MAX_MAP_KEYS
  ) {
    throw new RangeError(
      `Cannot generate events: mapKeys [${minKeys}, ${maxKeys}] must be integers with ` +
        `0 ≤ min ≤ max ≤ ${MAX_MAP_KEYS}`,
    );
  }
  const userCount = options.users ?? 1000;
  if (!Number.isInteger(userCount) || userCount < 1) {
    throw new RangeError(`Cannot generate events: users ${userCount} must be a positive integer`);
  }
  const keySpan = maxKeys - minKeys + 1;

  // sfc32: small, fast, good enough for test data; seeded from one number.
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) u32();
  const below = (n: number): number => Math.floor((u32() / 4294967296) * n);
  const pick = <T>(list: readonly T[]): T => list[below(list.length)];

  // One String.fromCharCode call makes a flat string: concatenation would leave a rope that every
  // consumer (checkEvent, TextEncoder, JSON.stringify) pays to flatten, skewing their benchmarks.
  const uuid = (): string => {
    const x = u32(), y = u32(), z = u32(), w = u32();
    // deno-fmt-ignore
    return String.fromCharCode(
      hexCode(x, 28), hexCode(x, 24), hexCode(x, 20), hexCode(x, 16),
      hexCode(x, 12), hexCode(x, 8), hexCode(x, 4), hexCode(x, 0), 45,
      hexCode(y, 28), hexCode(y, 24), hexCode(y, 20), hexCode(y, 16), 45,
      52, hexCode(y, 8), hexCode(y, 4), hexCode(y, 0), 45,
      HEX_CODES[8 | (z >>> 30)], hexCode(z, 24), hexCode(z, 20), hexCode(z, 16), 45,
      hexCode(z, 12), hexCode(z, 8), hexCode(z, 4), hexCode(z, 0),
      hexCode(w, 28), hexCode(w, 24), hexCode(w, 20), hexCode(w, 16),
      hexCode(w, 12), hexCode(w, 8), hexCode(w, 4), hexCode(w, 0),
    );
  };
  const hex8Upper = (): string => {
    const x = u32();
    return HEX_UPPER[x >>> 24] + HEX_UPPER[(x >>> 16) & 255] + HEX_UPPER[(x >>> 8) & 255] +
      HEX_UPPER[x & 255];
  };

  const users: User[] = [];
  for (let i = 0; i < userCount; i++) {
    const android = below(10) < 6;
    const sessionStart = 1659710000 + below(10_000_000);
    users.push({
      id: uuid(),
      deviceId: `${hex8Upper()}-${hex8Upper()}-${hex8Upper()}`,
      userId: below(10) < 7 ? String(10000 + below(990000)) : undefined,
      sessionId: `${sessionStart}.${1 + below(9)}.1.${sessionStart + below(1000)}.0`,
      gaSessionId: below(10) < 2 ? String(1600000000 + below(100000000)) : undefined,
      android,
      appversion: `6.${below(12)}.${below(10)}`,
      language: android ? pick(["ko", "en", "ja"]) : pick(["ko-KR", "en-US", "ja-JP"]),
      osversion: android ? String(10 + below(5)) : `${15 + below(3)}.${below(7)}.${below(3)}`,
      versionname: `6.${70 + below(10)}.0${below(10) === 0 ? "-DEBUG" : ""}`,
      devicemodel: android
        ? pick(["SM-S908N", "SM-G991N", "Pixel 7", "SM-A536N"])
        : pick(["iPhone14,2", "iPhone15,3", "iPhone13,1", "iPad13,4"]),
    });
  }

  const eventValue = (key: string): string => {
    switch (key) {
      case "product_id":
        return String(10000 + below(90000));
      case "product_category":
        return pick(CATEGORIES);
      case "order_id":
        return String(100000000 + below(900000000));
      case "price":
        return `${below(1000000)}.${below(100)}`;
      case "quantity":
        return String(1 + below(9));
      case "currency":
        return pick(CURRENCIES);
      case "page":
        return pick(PAGES);
      case "search_term":
        return pick(SEARCH_TERMS);
      case "banner_id":
        return `banner-${below(50)}`;
      case "coupon":
        return below(2) === 0 ? "WELCOME10" : "";
      case "position":
        return String(below(20));
      default:
        return "https://example.com/";
    }
  };
  const userValue = (key: string): string => {
    switch (key) {
      case "grade":
        return pick(GRADES);
      case "date_signed":
        return `2022-0${1 + below(9)}-1${below(10)}`;
      case "date_recent":
        return `2023-01-${10 + below(19)}`;
      case "age_group":
        return `${2 + below(5)}0s`;
      case "gender":
        return below(2) === 0 ? "F" : "M";
      case "city":
        return pick(CITIES);
      case "membership":
        return below(3) === 0 ? "true" : "false";
      case "marketing_opt_in":
        return below(2) === 0 ? "Y" : "N";
      case "first_seen":
        return "2021-12-25";
      case "plan":
        return pick(["free", "plus", "프리미엄"]);
      case "points":
        return String(below(100000));
      default:
        return below(4) === 0 ? "익명" : `user${10000 + below(990000)}`;
    }
  };
  // Property values come from seeded pools (a day's events repeat their products, grades and
  // cities too): picking one is much cheaper than formatting a number per value.
  const POOL_SIZE = 256;
  const pools = (keys: readonly string[], value: (key: string) => string): string[][] =>
    keys.map((key) => Array.from({ length: POOL_SIZE }, () => value(key)));
  const eventPools = pools(EVENT_PROPERTY_KEYS, eventValue);
  const userPools = pools(USER_PROPERTY_KEYS, userValue);
  const properties = (keys: readonly string[], values: string[][]): EventMap => {
    const map: EventMap = {};
    if (below(10) === 0) return map;
    const count = minKeys + below(keySpan);
    const offset = below(keys.length);
    for (let i = 0; i < count; i++) {
      const j = (offset + i) % keys.length;
      map[keys[j]] = values[j][u32() & (POOL_SIZE - 1)];
    }
    return map;
  };

  const metricValue = (): bigint => {
    const r = below(100);
    if (r < 55) return 0n;
    if (r < 85) return BigInt(below(10_000_000)) * 10_000n; // a price with 2 decimals
    if (r < 95) return BigInt(below(2_000_000_000) - 1_000_000_000); // 6 decimals, either sign
    if (r < 99) return -BigInt(1 + below(100_000)) * 1_000_000n; // a refund
    // 18 integer digits and 6 fraction digits, either sign.
    const high = BigInt(100_000_000_000 + below(900_000_000_000)) * 1_000_000_000_000n;
    const value = high + BigInt(below(1_000_000)) * 1_000_000n + BigInt(below(1_000_000));
    return below(2) === 0 ? value : -value;
  };

  return (): Event => {
    const user = users[below(userCount)];
    const identifiers: EventMap = { id: user.id, device_id: user.deviceId };
    if (user.userId !== undefined) identifiers.user_id = user.userId;
    if (below(4) !== 0) identifiers.session_id = user.sessionId;
    if (user.gaSessionId !== undefined) {
      identifiers.ga_session_id = user.gaSessionId;
      identifiers.ga_device_id = user.deviceId.toLowerCase();
    }
    return {
      insert_id: uuid(),
      event_key: pick(EVENT_KEYS),
      ts: dayStart + below(86_400_000),
      metric_value: metricValue(),
      identifiers,
      event_properties: properties(EVENT_PROPERTY_KEYS, eventPools),
      user_properties: properties(USER_PROPERTY_KEYS, userPools),
      platform_properties: {
        osname: user.android ? "Android" : "iOS",
        appversion: user.appversion,
        language: user.language,
        osversion: user.osversion,
        devicevendor: user.android ? "samsung" : "Apple",
        versionname: user.versionname,
        platform: "Mobile",
        devicemodel: user.devicemodel,
      },
    };
  };
}

/**
 * Generates `count` events at once; see {@linkcode createEventGenerator} for what they look
 * like. For millions of events, call the generator in a loop instead of holding them all.
 *
 * @example
 * ```ts
 * import { generateEvents } from "@eventlake/schema/testing";
 * import { checkEvent } from "@eventlake/schema";
 * const events = generateEvents(100, { seed: 42, day: "2023-01-01", mapKeys: [3, 6] });
 * console.log(events.length, events.every((e) => checkEvent(e).length === 0)); // 100 true
 * ```
 */
export function generateEvents(count: number, options: GenerateEventsOptions = {}): Event[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`Cannot generate events: count ${count} must be a non-negative integer`);
  }
  const next = createEventGenerator(options);
  const out = new Array<Event>(count);
  for (let i = 0; i < count; i++) out[i] = next();
  return out;
}
