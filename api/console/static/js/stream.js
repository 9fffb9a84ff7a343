// The live stream: /v1/stream as Server-Sent Events. EventSource reconnects by itself and
// sends Last-Event-ID, so the server replays what changed while we were away.

export class Stream {
  constructor(api, handlers) {
    this.api = api;
    this.handlers = handlers; // {ready(position), chat(row), removed(id), reset(), state(s)}
    this.source = null;
  }

  open() {
    this.close();
    // EventSource cannot set headers: the API takes the token as a query parameter here.
    const url = `/v1/stream?access_token=${encodeURIComponent(this.api.token)}`;
    const source = new EventSource(url);
    this.source = source;
    const on = (name, fn) => source.addEventListener(name, (event) => {
      if (this.source !== source) return;
      fn(event.data ? JSON.parse(event.data) : {}, event);
    });
    on("ready", (data) => {
      this.handlers.state("live");
      this.handlers.ready(data.position);
    });
    on("chat", (row) => this.handlers.chat(row));
    on("chat_removed", (data) => this.handlers.removed(data.id, data.position));
    on("reset", () => this.handlers.reset());
    // The token was revoked, the session ended or the operator deactivated: the server says
    // so and ends the stream. The shell finds out which (a 401 brings back the sign-in).
    on("ended", () => {
      source.close();
      this.handlers.state("offline");
      this.retry = setTimeout(() => this.open(), 5000);
    });
    source.addEventListener("error", () => {
      if (this.source !== source) return;
      if (source.readyState === EventSource.CLOSED) {
        // Refused (a revoked token, a server gone): try again from the start, later.
        this.handlers.state("offline");
        this.retry = setTimeout(() => this.open(), 5000);
      } else {
        this.handlers.state("reconnecting");
      }
    });
  }

  close() {
    clearTimeout(this.retry);
    if (this.source) this.source.close();
    this.source = null;
  }
}
