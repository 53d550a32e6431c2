/** Wire protocol version. Changes are additive; a field kept for old agents names the version that deprecated it. */
export const PROTOCOL_VERSION = 1;
/** Protocol versions the server speaks; an agent presenting another is refused before the upgrade (426). */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION];
/** Largest frame either side accepts, in bytes. */
export const MAX_FRAME_BYTES = 1_048_576;
/** Most samples in one telemetry batch (a replayed spool is sent in batches this size or smaller). */
export const MAX_BATCH_SAMPLES = 200;
/** Most batches in one beacon. */
export const MAX_BEACON_BATCHES = 20;
