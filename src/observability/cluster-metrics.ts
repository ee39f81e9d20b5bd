import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * Metrics of `lock serve --workers N`: each worker counts in its own registry, and whichever worker
 * a scrape reaches answers for all of them. It asks the primary, which gathers every worker's
 * registry over the cluster's IPC channel (prom-client's AggregatorRegistry) and sums them.
 */
const SCRAPE = 'lock:metrics-scrape';
const SCRAPED = 'lock:metrics-scraped';
const SCRAPE_TIMEOUT_MS = 5_000;

interface ScrapeMessage {
  type: typeof SCRAPE;
  id: string;
}
interface ScrapedMessage {
  type: typeof SCRAPED;
  id: string;
  text?: string;
  error?: string;
}

/**
 * The primary's bounds: one gathering at a time however many scrapes arrive (they share its
 * answer), and an answer refused past MAX_EXPOSITION_BYTES, so that no flood of scrapes or of
 * series can grow the primary's memory or queue work behind a slow gathering.
 */
export const MAX_EXPOSITION_BYTES = 4 * 1024 * 1024;

/** In the primary: answers the workers' scrape requests with the whole cluster's metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  let gathering: Promise<string> | undefined;
  const gather = () => {
    gathering ??= aggregator
      .clusterMetrics() // prom-client gives up after 5 s when a worker does not answer
      .then((text) => {
        if (text.length > MAX_EXPOSITION_BYTES)
          throw new Error(`the cluster's metrics exceed ${MAX_EXPOSITION_BYTES} bytes`);
        return text;
      })
      .finally(() => {
        gathering = undefined;
      });
    return gathering;
  };
  cluster.on('message', (worker, message: ScrapeMessage) => {
    if (message?.type !== SCRAPE) return;
    gather().then(
      (text) => worker.send({ type: SCRAPED, id: message.id, text } satisfies ScrapedMessage),
      (error: Error) =>
        worker.send({ type: SCRAPED, id: message.id, error: error.message } satisfies ScrapedMessage),
    );
  });
}

/** In a worker: lets the primary read this registry (prom-client answers its requests). */
export function joinClusterMetrics(registry: Registry): void {
  AggregatorRegistry.setRegistries(registry);
  new AggregatorRegistry(); // registers the worker's side of prom-client's IPC protocol
}

let scraping: Promise<string> | undefined;

/** In a worker: the whole cluster's metrics, in the Prometheus text format (concurrent scrapes share one). */
export function scrapeCluster(): Promise<string> {
  scraping ??= askPrimary().finally(() => {
    scraping = undefined;
  });
  return scraping;
}

function askPrimary(): Promise<string> {
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const onMessage = (message: ScrapedMessage) => {
      if (message?.type !== SCRAPED || message.id !== id) return;
      done();
      if (message.text !== undefined) resolve(message.text);
      else reject(new Error(`the primary could not gather the workers' metrics: ${message.error}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error("the primary did not answer for the workers' metrics"));
    }, SCRAPE_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      process.off('message', onMessage);
    };
    process.on('message', onMessage);
    process.send!({ type: SCRAPE, id } satisfies ScrapeMessage);
  });
}
