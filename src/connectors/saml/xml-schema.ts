import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { SchemaJob, SchemaJobResult } from './xml-schema-worker.ts';

// The vendored XSDs (schemas/README.md): read once, handed to xmllint in memory, never fetched.
const SCHEMA_FILES = [
  'saml-schema-protocol-2.0.xsd',
  'saml-schema-assertion-2.0.xsd',
  'saml-schema-metadata-2.0.xsd',
  'xmldsig-core-schema.xsd',
  'xenc-schema.xsd',
  'xml.xsd',
] as const;

const SCHEMAS = SCHEMA_FILES.map((fileName) => ({
  fileName,
  contents: readFileSync(new URL(`./schemas/${fileName}`, import.meta.url), 'utf8'),
}));

const ENTRY = {
  protocol: 'saml-schema-protocol-2.0.xsd',
  assertion: 'saml-schema-assertion-2.0.xsd',
  metadata: 'saml-schema-metadata-2.0.xsd',
} as const;

export type SamlSchema = keyof typeof ENTRY;

/** Defaults of LOCK_SAML_VALIDATION_THREADS and LOCK_SAML_VALIDATION_QUEUE (docs/configuration.md). */
export const SCHEMA_VALIDATION_DEFAULTS = { threads: 2, queue: 64 } as const;

/**
 * Every validator thread is busy and the queue is full: the document was not looked at. The caller
 * answers 503 (try again shortly) rather than let a flood of documents hold ever more memory.
 */
export class SchemaValidatorBusy extends Error {
  override name = 'SchemaValidatorBusy';
}

interface Pending {
  job: SchemaJob;
  resolve: (result: SchemaJobResult) => void;
  reject: (error: Error) => void;
}

/**
 * A fixed number of long-lived threads running libxml2 (xmllint-wasm), each compiled once, and a
 * bounded queue in front of them. xmllint-wasm's own `validateXML` starts a new thread per document
 * (~14 MiB and ~100 ms each): a few hundred concurrent posts to an ACS would start as many.
 */
class SchemaValidatorPool {
  #threads: number = SCHEMA_VALIDATION_DEFAULTS.threads;
  #queueLimit: number = SCHEMA_VALIDATION_DEFAULTS.queue;
  readonly #idle: Worker[] = [];
  readonly #running = new Map<Worker, Pending>();
  readonly #queue: Pending[] = [];
  #started = 0;
  #nextId = 1;

  configure(limits: { threads: number; queue: number }): void {
    this.#threads = limits.threads;
    this.#queueLimit = limits.queue;
  }

  run(xml: string, entry: string): Promise<SchemaJobResult> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { job: { id: this.#nextId++, xml, entry }, resolve, reject };
      const worker = this.#idle.pop() ?? this.#startWorker();
      if (worker) return this.#dispatch(worker, pending);
      if (this.#queue.length >= this.#queueLimit)
        return reject(
          new SchemaValidatorBusy(
            `the SAML schema validator is busy (${this.#threads} threads, ${this.#queueLimit} documents waiting)`,
          ),
        );
      this.#queue.push(pending);
    });
  }

  /** What is queued or running now (for tests and metrics). */
  get load(): { running: number; queued: number } {
    return { running: this.#running.size, queued: this.#queue.length };
  }

  #startWorker(): Worker | undefined {
    if (this.#started >= this.#threads) return undefined;
    this.#started++;
    const worker = new Worker(new URL('./xml-schema-worker.ts', import.meta.url), {
      workerData: { schemas: SCHEMAS },
      // A small heap: each run leaves an instance's worth of garbage, collected early this way.
      resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 },
    });
    worker.on('message', (result: SchemaJobResult) => {
      const pending = this.#running.get(worker);
      if (!pending || pending.job.id !== result.id) return;
      this.#running.delete(worker);
      pending.resolve(result);
      this.#next(worker);
    });
    const fail = (error: Error) => {
      this.#started--;
      const pending = this.#running.get(worker);
      this.#running.delete(worker);
      const index = this.#idle.indexOf(worker);
      if (index >= 0) this.#idle.splice(index, 1);
      pending?.reject(new Error(`the SAML schema validator thread failed: ${error.message}`));
      // Its queue goes on in a new thread.
      const waiting = this.#queue.shift();
      if (waiting) {
        const replacement = this.#startWorker();
        if (replacement) this.#dispatch(replacement, waiting);
        else this.#queue.unshift(waiting);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.#running.has(worker) || this.#idle.includes(worker)) fail(new Error(`exited with ${code}`));
    });
    // Referenced only while it works: an idle pool must not keep the process alive.
    worker.unref();
    return worker;
  }

  #dispatch(worker: Worker, pending: Pending): void {
    this.#running.set(worker, pending);
    worker.ref();
    worker.postMessage(pending.job);
  }

  #next(worker: Worker): void {
    const waiting = this.#queue.shift();
    if (waiting) this.#dispatch(worker, waiting);
    else {
      worker.unref();
      this.#idle.push(worker);
    }
  }
}

const pool = new SchemaValidatorPool();

/** Sets the pool's size and queue bound (app start; takes effect for threads not yet started). */
export function configureSchemaValidation(limits: { threads: number; queue: number }): void {
  pool.configure(limits);
}

export const schemaValidationLoad = () => pool.load;

/**
 * Validates a document against a SAML schema with libxml2 (xmllint-wasm), offline. Resolves with
 * undefined when valid, else with xmllint's first complaint (which names elements, never values).
 * Rejects with SchemaValidatorBusy when the bounded queue is full.
 */
export async function schemaViolation(xml: string, schema: SamlSchema): Promise<string | undefined> {
  const result = await pool.run(xml, ENTRY[schema]);
  if (result.exitCode === 0) return undefined;
  if (result.exitCode !== 3 && result.exitCode !== 4)
    throw new Error(`xmllint failed (${result.exitCode}): ${result.stderr.slice(0, 300)}`);
  return firstComplaint(result.stderr) ?? 'not valid against the SAML schema';
}

/** xmllint's first "file:line: message" line, without the file and line (as xmllint-wasm parsed it). */
function firstComplaint(stderr: string): string | undefined {
  for (const line of stderr.split('\n')) {
    if (line.trim() === '' || line.trim().endsWith(' validates') || / fails to validate$/.test(line.trim()))
      continue;
    const [fileName, lineNumber, ...rest] = line.split(':');
    const message = fileName && lineNumber && rest.length > 0 ? rest.join(':') : line;
    return message.trim().slice(0, 300);
  }
  return undefined;
}
