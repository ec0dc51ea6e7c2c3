// A WebSocket for the client (its `WebSocket` dependency) that lets the page
// read the policy messages the daemon sends: canHear (who I may hear) and
// audience (who may hear me). The client itself is unchanged by it.

/** Returns a WebSocket constructor that reports each parsed server message to onMessage(msg). */
export function tappedWebSocket(onMessage) {
  return class TappedWebSocket {
    constructor(url) {
      this.ws = new WebSocket(url);
      this.ws.addEventListener('message', (ev) => {
        try {
          onMessage(JSON.parse(ev.data));
        } catch {
          /* not JSON: the client reports it */
        }
      });
    }
    get onopen() {
      return this.ws.onopen;
    }
    set onopen(f) {
      this.ws.onopen = f;
    }
    get onmessage() {
      return this.ws.onmessage;
    }
    set onmessage(f) {
      this.ws.onmessage = f;
    }
    get onclose() {
      return this.ws.onclose;
    }
    set onclose(f) {
      this.ws.onclose = f;
    }
    get onerror() {
      return this.ws.onerror;
    }
    set onerror(f) {
      this.ws.onerror = f;
    }
    get readyState() {
      return this.ws.readyState;
    }
    send(data) {
      this.ws.send(data);
    }
    close(code, reason) {
      this.ws.close(code, reason);
    }
  };
}
