// The instance console: noVNC's RFB client for VNC, a small terminal for the serial console.
// Both speak to the compute console proxy over a websocket (subprotocol "binary").
const box = document.getElementById("console");
const statusLine = document.getElementById("console-status");

function socketUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  return scheme + window.location.host + path;
}

function say(text) {
  if (statusLine) statusLine.textContent = text;
}

async function vnc() {
  const { default: RFB } = await import(box.dataset.novnc);
  const rfb = new RFB(box, socketUrl(box.dataset.socket), { wsProtocols: ["binary"] });
  rfb.scaleViewport = true;
  rfb.addEventListener("connect", () => say("Connected"));
  rfb.addEventListener("disconnect", (e) => say(e.detail.clean ? "Disconnected" : "Cannot reach the console"));
  box.addEventListener("click", () => rfb.focus());
}

function serial() {
  const ws = new WebSocket(socketUrl(box.dataset.socket), ["binary"]);
  ws.binaryType = "arraybuffer";
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  ws.addEventListener("open", () => say("Connected"));
  ws.addEventListener("close", (e) => say(e.wasClean ? "Disconnected" : "Cannot reach the console"));
  ws.addEventListener("message", (e) => {
    const text = typeof e.data === "string" ? e.data : decoder.decode(e.data, { stream: true });
    // Carriage returns and the terminal's escape sequences are left out of the plain view.
    box.textContent += text.replace(/\r/g, "").replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
    box.scrollTop = box.scrollHeight;
  });
  const keys = { Enter: "\r", Backspace: "\x7f", Tab: "\t", Escape: "\x1b",
                 ArrowUp: "\x1b[A", ArrowDown: "\x1b[B", ArrowRight: "\x1b[C", ArrowLeft: "\x1b[D" };
  box.addEventListener("keydown", (e) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    let data = keys[e.key];
    if (!data && e.key.length === 1) {
      data = e.ctrlKey ? String.fromCharCode(e.key.toUpperCase().charCodeAt(0) - 64) : e.key;
    }
    if (data) {
      e.preventDefault();
      ws.send(encoder.encode(data));
    }
  });
  box.addEventListener("click", () => box.focus());
}

if (box) {
  (box.dataset.kind === "vnc" ? vnc() : Promise.resolve(serial())).catch((e) => say("Console error: " + e.message));
}
