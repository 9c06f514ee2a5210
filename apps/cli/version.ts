/**
 * The CLI's version.
 *
 * @module
 */

/** Version printed by `eventlake --version`; kept equal to the packages' version. */
export const VERSION = "0.1.0";
