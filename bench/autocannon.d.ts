/**
 * The part of autocannon 9's programmatic API the bench uses; the package ships no types
 * and @types/autocannon would be a dependency for a dozen lines.
 */
declare module 'autocannon' {
  /** Options of one autocannon run. */
  export interface Options {
    readonly url: string;
    readonly method?: 'POST' | 'GET';
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: string | Buffer;
    readonly connections?: number;
    readonly pipelining?: number;
    /** duration in seconds; ignored when `amount` is set. */
    readonly duration?: number;
    /** amount of requests to send in all, then stop. */
    readonly amount?: number;
    /** idReplacement replaces `[<id>]` in the body with a new id for every request. */
    readonly idReplacement?: boolean;
    /** reconnectRate closes and reopens a connection after this many requests. */
    readonly reconnectRate?: number;
    /** timeout of one request, in seconds. */
    readonly timeout?: number;
  }

  /** Histogram is autocannon's summary of one measure. */
  export interface Histogram {
    readonly average: number;
    readonly mean: number;
    readonly stddev: number;
    readonly min: number;
    readonly max: number;
    readonly total: number;
    readonly p50: number;
    readonly p99: number;
  }

  /** Result of one run. */
  export interface Result {
    readonly duration: number;
    readonly errors: number;
    readonly timeouts: number;
    readonly non2xx: number;
    readonly resets: number;
    readonly '2xx': number;
    readonly latency: Histogram;
    readonly requests: Histogram;
    readonly throughput: Histogram;
  }

  /** autocannon runs a load test and resolves with its result. */
  export default function autocannon(options: Options): Promise<Result>;
}
