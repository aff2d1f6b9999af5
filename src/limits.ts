/**
 * Caps on what one pod may ask of tandem, in one place. A mutating webhook sees a pod's
 * annotations before the API server checks their size, and tandem sits on every pod
 * CREATE with failurePolicy Fail, so the work a review may cause is bounded here, ahead of
 * any parsing (issue 9). Each cap is far above what a real pod asks for; the README lists
 * them.
 */

/**
 * MAX_ANNOTATIONS_BYTES is the API server's own limit on a pod's annotations, keys and
 * values together (apimachinery's TotalAnnotationSizeLimitB, 256 KiB). A pod over it
 * would be refused after admission anyway; refusing it first keeps every
 * annotation-driven step of a review within 256 KiB of input.
 */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** MAX_REQUESTED_POLICIES is how many names `tandem.dev/inject` may list. */
export const MAX_REQUESTED_POLICIES = 32;

/** MAX_TARGET_CONTAINERS is how many names `tandem.dev/target-containers` may list. */
export const MAX_TARGET_CONTAINERS = 64;

/**
 * MAX_STATUS_BYTES bounds `tandem.dev/status`. What tandem writes is about 100 bytes per
 * policy, 30 per container or volume it added, and its undo record (undo.ts), a few
 * hundred bytes (939 for the largest corpus pod with all three built-ins); tandem refuses
 * to write a longer one, so no pod it injected can be refused by this cap on reinvocation.
 */
export const MAX_STATUS_BYTES = 64 * 1024;

/**
 * MAX_PARAM_VALUE_LENGTH bounds every param value, in characters: a list of sixteen Redis
 * upstreams is under 1 KiB. A policy may set a lower `maxLength` per param.
 */
export const MAX_PARAM_VALUE_LENGTH = 4096;
