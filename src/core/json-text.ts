/**
 * JSON already serialized. A sync response built for many members at once shares most of its
 * text among them (the same timeline for everyone woken by one message); carrying that text
 * instead of the objects lets each response be joined from pieces rather than re-serialized.
 * The class (not a bare string) keeps raw JSON from being mistaken for a string value.
 */
import type { JsonValue } from './json.js';

export class JsonText {
  constructor(readonly text: string) {}

  /** Whatever serializes it with JSON.stringify still gets the same JSON (parsed back: slow, but never wrong). */
  toJSON(): JsonValue {
    return JSON.parse(this.text) as JsonValue;
  }
}
