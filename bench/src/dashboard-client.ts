/**
 * A status page's feed, without the browser: `GET /status/events` read and each event parsed as JSON,
 * as the page does, for as long as the suite runs (`--dashboard`), so the gateway pays what it pays with
 * one page open. The browser's own drawing is not the server's cost, and is not measured here.
 */
export class DashboardClient {
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;
  events = 0;
  bytes = 0;
  error: string | undefined;

  start(managementUrl: string): void {
    this.running = this.read(managementUrl).catch((err: unknown) => {
      if (!this.controller.signal.aborted) this.error = (err as Error).message;
    });
  }

  private async read(managementUrl: string): Promise<void> {
    const res = await fetch(`${managementUrl}/status/events`, { signal: this.controller.signal });
    if (!res.ok || !res.body) throw new Error(`GET /status/events answered ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      this.bytes += chunk.byteLength;
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const data = buffer
          .slice(0, end)
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5))
          .join('\n');
        buffer = buffer.slice(end + 2);
        if (data === '') continue;
        JSON.parse(data);
        this.events++;
      }
    }
  }

  async stop(): Promise<{ events: number; bytes: number }> {
    this.controller.abort();
    await this.running;
    if (this.error) throw new Error(`dashboard client: ${this.error}`);
    return { events: this.events, bytes: this.bytes };
  }
}
