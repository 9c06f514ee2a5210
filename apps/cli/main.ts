/**
 * The `eventlake` command (under construction).
 *
 * @module
 */
console.log("eventlake: under construction");
