// One long-lived schema-validation thread of xml-schema.ts's pool: compiles libxml2 (xmllint-wasm)
// once, then runs one xmllint per message, each in a fresh instance that is dropped after the run.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

interface XmllintRun {
  inputFiles: Array<{ fileName: string; contents: string }>;
  arguments: string[];
  wasmMemory: WebAssembly.Memory;
  instantiateWasm: (
    imports: WebAssembly.Imports,
    done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
  ) => object;
  print: (text: string) => void;
  printErr: (text: string) => void;
  onExit: (code: number) => void;
  onAbort: (reason: unknown) => void;
}

export interface SchemaJob {
  id: number;
  xml: string;
  entry: string;
}

export interface SchemaJobResult {
  id: number;
  /** 0 valid, 3/4 invalid, anything else: xmllint failed. */
  exitCode: number;
  stderr: string;
}

const require = createRequire(import.meta.url);
const modulePath = require.resolve('xmllint-wasm/xmllint-node.js');
// Loading it also registers the package's own message handler, which ignores messages not tagged for it.
const createXmllint = require(modulePath) as (run: XmllintRun) => Promise<unknown>;
const compiled = new WebAssembly.Module(readFileSync(join(dirname(modulePath), 'xmllint.wasm')));
const schemas = workerData.schemas as Array<{ fileName: string; contents: string }>;

// 16 MiB to start, 32 MiB at most (the package's defaults): a document that needs more fails.
const PAGE_INITIAL = 256;
const PAGE_MAX = 512;

function validate(job: SchemaJob): Promise<SchemaJobResult> {
  return new Promise((resolve) => {
    let stderr = '';
    let settled = false;
    const finish = (exitCode: number) => {
      if (settled) return;
      settled = true;
      resolve({ id: job.id, exitCode, stderr });
    };
    createXmllint({
      inputFiles: [{ fileName: 'message.xml', contents: job.xml }, ...schemas],
      // No network and no DTD loading, whatever the document asks for.
      arguments: ['--nonet', '--schema', job.entry, '--noout', 'message.xml'],
      wasmMemory: new WebAssembly.Memory({ initial: PAGE_INITIAL, maximum: PAGE_MAX }),
      instantiateWasm(imports, done) {
        WebAssembly.instantiate(compiled, imports).then((instance) => done(instance, compiled));
        return {};
      },
      print: () => {},
      printErr: (text) => {
        if (stderr.length < 4096) stderr += `${text}\n`;
      },
      onExit: finish,
      onAbort: (reason) => {
        stderr = `WASM abort: ${String(reason)}`;
        finish(-1);
      },
    }).catch((error: unknown) => {
      // Emscripten rejects with its ExitStatus when the program exits; onExit has settled it then.
      if (!settled) {
        stderr = String((error as Error)?.message ?? error);
        finish(-1);
      }
    });
  });
}

parentPort!.on('message', (job: SchemaJob) => {
  if (typeof job?.id !== 'number') return;
  void validate(job).then((result) => parentPort!.postMessage(result));
});
