import { IncomingMessage } from 'node:http';

/** The bodies the edge reads before anything else does: forms and JSON, the ones that reach queries. */
const INSPECTED_TYPE = /^\s*application\/(?:(x-www-form-urlencoded)|(?:[\w.-]+\+)?json)\s*(?:;|$)/i;

/** The largest body any of Lock's routes takes (the admin API's, for IdP metadata documents). */
export const MAX_HELD_BODY = 2 * 1024 * 1024;

export type HeldBody =
  | { kind: 'none' }
  | { kind: 'complete'; type: 'form' | 'json'; body: Buffer }
  | { kind: 'too-large' }
  | { kind: 'aborted' };

/**
 * The request object of Lock's HTTP server (`createServer({ IncomingMessage: EdgeRequest })`):
 * a form or JSON body is held back as the parser delivers it, until the edge has read it
 * (`heldBody()`) and lets it through (`releaseBody()`). Whoever reads the body next (oidc-provider,
 * the login form, the admin API) reads the same stream as before, unaware: nothing is parsed
 * twice by them, and no route needs to know that its input was inspected.
 */
export class EdgeRequest extends IncomingMessage {
  #mode: 'undecided' | 'hold' | 'pass' = 'undecided';
  #type: 'form' | 'json' = 'form';
  #chunks: Buffer[] = [];
  #size = 0;
  #ended = false;
  #tooLarge = false;
  #wake: (() => void) | undefined;

  // The parser sets the headers before it delivers any of the body.
  #decide(): void {
    if (this.#mode !== 'undecided') return;
    const inspected = INSPECTED_TYPE.exec(this.headers['content-type'] ?? '');
    this.#mode = inspected ? 'hold' : 'pass';
    this.#type = inspected?.[1] ? 'form' : 'json';
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    this.#decide();
    if (this.#mode === 'pass') return super.push(chunk, encoding);
    if (chunk === null) this.#ended = true;
    else {
      const buffer = chunk as Buffer;
      this.#size += buffer.length;
      this.#chunks.push(buffer);
      if (this.#size > MAX_HELD_BODY) {
        this.#tooLarge = true;
        this.releaseBody();
      }
    }
    this.#wake?.();
    return true;
  }

  /** The whole body once it has arrived: `none` when it is not one the edge inspects. */
  async heldBody(): Promise<HeldBody> {
    this.#decide();
    while (this.#mode === 'hold' && !this.#ended && !this.destroyed)
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    this.#wake = undefined;
    if (this.#tooLarge) return { kind: 'too-large' };
    if (this.#mode !== 'hold') return { kind: 'none' };
    if (!this.#ended) return { kind: 'aborted' };
    return {
      kind: 'complete',
      type: this.#type,
      body: this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#size),
    };
  }

  // A connection closed before the body ended wakes heldBody() too.
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    super._destroy(error, callback);
    this.#wake?.();
  }

  /** Lets the held body through to whoever reads the request next. */
  releaseBody(): void {
    if (this.#mode !== 'hold') return;
    this.#mode = 'pass';
    for (const chunk of this.#chunks) super.push(chunk);
    this.#chunks = [];
    if (this.#ended) super.push(null);
  }
}
