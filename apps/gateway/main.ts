/**
 * The eventlake gateway (under construction).
 *
 * @module
 */
export {};
