// A Socket.IO v4 chat server as the tutorials write it: join_room puts the
// socket in a room, send_message is emitted to everyone in that room (the
// sender included). WebSocket transport only (no long-polling).
// PORT (default 8082); binds 127.0.0.1 only.
const { createServer } = require("http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 8082);
const httpServer = createServer();
const io = new Server(httpServer, { transports: ["websocket"] });

io.on("connection", (socket) => {
  socket.on("join_room", (room) => {
    socket.join(room);
  });
  socket.on("send_message", (data) => {
    io.to(data.room).emit("receive_message", data);
  });
});

httpServer.listen(port, "127.0.0.1", () =>
  console.log(`Socket.IO server on 127.0.0.1:${port}`),
);
