/**
 * Argument checks shared by every primitive. Each failure is a TypeError (wrong kind of value)
 * or RangeError (right kind, bad value) whose message says what to pass instead. Checks run
 * before any word is touched, so a refused call changes nothing.
 *
 * @module
 */

import type { Futex } from "./futex.ts";

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}

/**
 * A timeout in milliseconds: `undefined` or `Infinity` for none, else a whole number ≥ 0.
 * Returns the value to use (`undefined` for none).
 */
export function checkTimeout(timeoutMs: unknown, where: string): number | undefined {
  if (timeoutMs === undefined || timeoutMs === Infinity) return undefined;
  if (typeof timeoutMs !== "number") {
    throw new TypeError(
      `${where}: timeout must be a number of milliseconds (got ${describe(timeoutMs)}); ` +
        "pass a whole number ≥ 0, or omit it / pass Infinity to wait without limit",
    );
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs < 0) {
    throw new RangeError(
      `${where}: timeout must be a whole number of milliseconds ≥ 0 (got ${describe(timeoutMs)}); ` +
        "omit it or pass Infinity to wait without limit",
    );
  }
  return timeoutMs;
}

/** A spin count: a whole number ≥ 0. */
export function checkSpins(spins: unknown, where: string): number {
  if (typeof spins !== "number" || !Number.isInteger(spins) || spins < 0) {
    const E = typeof spins === "number" ? RangeError : TypeError;
    throw new E(`${where}: spin must be a whole number of pause units ≥ 0 (got ${describe(spins)}); pass 0 to never spin`);
  }
  return spins;
}

/** An options bag: `undefined` or a plain object. */
export function checkOptions<T extends object>(options: unknown, where: string): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${where}: options must be an object (got ${describe(options)})`);
  }
  return options as Partial<T>;
}

/**
 * An AbortSignal or nothing: a real one, or an object with the whole shape the library uses
 * (`aborted`, `reason`, `addEventListener`, `removeEventListener`) — checked before any wait
 * starts, so a half-shaped object cannot fail later inside a completion handler.
 */
export function checkSignal(signal: unknown, where: string): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  const real = typeof AbortSignal === "function" && signal instanceof AbortSignal;
  if (
    !real && (
      signal === null || typeof signal !== "object" ||
      typeof (signal as AbortSignal).aborted !== "boolean" ||
      !("reason" in signal) ||
      typeof (signal as AbortSignal).addEventListener !== "function" ||
      typeof (signal as AbortSignal).removeEventListener !== "function"
    )
  ) {
    throw new TypeError(`${where}: signal must be an AbortSignal (got ${describe(signal)}); pass AbortController.signal`);
  }
  return signal as AbortSignal;
}

/** Something that implements the Futex contract. */
export function checkFutex(futex: unknown, where: string): Futex {
  const f = futex as Futex;
  if (
    f === null || typeof f !== "object" || typeof f.wait !== "function" || typeof f.waitAsync !== "function" ||
    typeof f.wakeOne !== "function" || typeof f.wakeAll !== "function" || typeof f.domain !== "string"
  ) {
    throw new TypeError(
      `${where}: futex must implement the Futex contract (domain, wait, waitAsync, wakeOne, wakeAll); ` +
        `got ${describe(futex)}. Omit it to use the Atomics futex`,
    );
  }
  return f;
}

/** A whole number in [min, max] (counts, permits). */
export function checkCount(n: unknown, where: string, what: string, min: number, max: number): number {
  if (typeof n !== "number") {
    throw new TypeError(`${where}: ${what} must be a number (got ${describe(n)}); pass a whole number from ${min} to ${max}`);
  }
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`${where}: ${what} must be a whole number from ${min} to ${max} (got ${describe(n)})`);
  }
  return n;
}
