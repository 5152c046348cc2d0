// The broadcast server as the `ws` README and the tutorials write it: every
// message received is sent to every open client, the sender included.
// PORT (default 8081); binds 127.0.0.1 only.
const { WebSocketServer, WebSocket } = require("ws");

const port = Number(process.env.PORT || 8081);
const wss = new WebSocketServer({ host: "127.0.0.1", port });

wss.on("connection", (ws) => {
  ws.on("error", console.error);
  ws.on("message", (data, isBinary) => {
    wss.clients.forEach((client) => {
      if (client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    });
  });
});

wss.on("listening", () => console.log(`ws broadcast server on 127.0.0.1:${port}`));
