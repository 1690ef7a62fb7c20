/**
 * Test support: the Xquik API simulator.
 *
 * @since 0.1.0
 */
export * from "./XquikSimulator.js"
