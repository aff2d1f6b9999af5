/**
 * The body of a POST /mutate, as the route gets it: a review the answer cache already
 * answered (not parsed at all), or the parsed JSON and the review's cache key. fastify's
 * own JSON parser does the parsing, with the settings the server has always used.
 */
import type { FastifyBodyParser } from 'fastify';
import {
  reviewKey,
  type AnswerCache,
  type CachedAnswer,
  type ReviewKey,
  type ServedState,
} from './answer-cache.ts';

/** CachedReview is a review answered from the cache: the answer, for the request's uid. */
export class CachedReview {
  readonly uid: string;
  readonly answer: CachedAnswer;
  constructor(uid: string, answer: CachedAnswer) {
    this.uid = uid;
    this.answer = answer;
  }
}

/** ParsedReview is a parsed body, with its cache key when it is laid out as a review. */
export class ParsedReview {
  readonly json: unknown;
  readonly key: ReviewKey | undefined;
  constructor(json: unknown, key: ReviewKey | undefined) {
    this.json = json;
    this.key = key;
  }
}

/**
 * reviewBodyParser reads a JSON body: from `answers` when it holds this review's answer
 * for what `served` holds now, else through `parseJson` (fastify's JSON parser).
 */
export function reviewBodyParser(
  answers: AnswerCache,
  served: ServedState,
  parseJson: FastifyBodyParser<string>,
): FastifyBodyParser<Buffer> {
  return (request, body, done) => {
    const key = reviewKey(body);
    const answer = key === undefined ? undefined : answers.get(key.key, served);
    if (key !== undefined && answer !== undefined) {
      done(null, new CachedReview(key.uid, answer));
      return;
    }
    // fastify's JSON parser is the callback kind: it calls back before returning.
    void parseJson(request, body.toString('utf8'), (error, json) => {
      if (error !== null) done(error, undefined);
      else done(null, new ParsedReview(json, key));
    });
  };
}
