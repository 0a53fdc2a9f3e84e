// chainrule playground: draws what the server's training session sends; no maths of its own.
"use strict";

(() => {
  const COLORS = ["#f28e2b", "#1f77b4", "#2ca02c", "#9467bd", "#d62728", "#17becf"];
  const RGB = COLORS.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)));
  const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
  const L2_VALUES = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1];
  const ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "step"];
  const SHORT = { sigmoid: "sigmoid", tanh: "tanh", relu: "ReLU", leaky_relu: "leaky ReLU", step: "step" };
  // The lecture's (and chainrule.engine.explain's) neuron numbering: a softmax layer's neurons
  // count from 0, like the classes they stand for (h_y = P(Y = y | x)); every other layer's from 1.
  const firstIndex = (activation) => (activation === "softmax" ? 0 : 1);
  const MAX_LAYERS = 6, MAX_UNITS = 32, MAX_UPLOAD = 512000;

  const $ = (id) => document.getElementById(id);
  const api = (window.__chainrule = {
    framesPerSecond: 0, frames: 0, connected: false, state: null, frame: null,
    lastTrace: null, errors: [], history: [], send: (m) => send(m),
  });

  let socket = null;
  let state = null;        // last "state" message: settings, points, sizes ...
  let frame = null;        // last decoded frame
  let settings = null;     // what the URL and the controls show
  let lesson = "";
  let selectedClass = 0;
  let pinnedEdge = null;
  const frameTimes = [];
  let history = [];        // [{steps, epoch, trainLoss, testLoss, trainAcc, testAcc, norms}]

  // ---------------------------------------------------------------- connection
  // A closed connection (the server restarted, the laptop slept) is retried every few seconds;
  // the new session is given the run in the URL, and any clicked or uploaded points again with
  // their train/test split and class names.
  const RECONNECT_MS = [500, 1000, 2000, 4000];
  const FRAME_DRAWN = '{"type":"drawn"}';   // chainrule.web.protocol.FRAME_DRAWN
  let reconnects = 0;
  let lostData = null;
  const CONNECTION_LOST = "The connection to the playground server closed; reconnecting…";
  function connect() {
    socket = new WebSocket(`ws://${location.host}/ws`);
    socket.onopen = () => {
      api.connected = true;
      if (reconnects > 0) {
        api.reconnected = (api.reconnected || 0) + 1;
        firstState = true;   // the new session starts from defaults: send it the URL's run
        viewSent = DEFAULT_VIEW;
        if ($("error-text").textContent === CONNECTION_LOST) $("error").hidden = true;
      }
      reconnects = 0;
    };
    socket.onclose = (event) => {
      const wasConnected = api.connected;
      api.connected = false;
      pendingConfigs = 0;
      if (wasConnected && state) {
        const { train, test } = state.points;
        lostData = state.source === "custom" && train.length >= 1 && train.length + test.length >= 4
          ? { train, test, classes: state.classes } : null;
      }
      if (frame && frame.playing) { frame.playing = false; $("play").textContent = "▶"; $("play").setAttribute("aria-label", "play"); }
      if (event.code !== 1013) showError(CONNECTION_LOST, true);   // 1013: the server said why
      setTimeout(connect, RECONNECT_MS[Math.min(reconnects, RECONNECT_MS.length - 1)]);
      reconnects += 1;
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      const handler = HANDLERS[message.type];
      const start = performance.now();
      try {
        if (handler) handler(message);
      } finally {
        // Flow control: the server sends the next frames only as this page draws them, so a
        // slow page (a large network, thousands of points) never falls seconds behind.
        if (message.type === "frame") {
          api.drawMs = 0.9 * (api.drawMs || 0) + 0.1 * (performance.now() - start);
          if (event.target.readyState === WebSocket.OPEN) event.target.send(FRAME_DRAWN);
        }
      }
    };
  }
  function send(message) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  const HANDLERS = {
    state: onState,
    frame: onFrame,
    error: (m) => {
      showError(m.message);
      if (m.message.startsWith("too many messages")) pendingConfigs = 0;   // some got no reply
      else if (pendingConfigs > 0) pendingConfigs -= 1;
      // A refused change (say, from an edited link) must not stick: show what the server runs.
      if (state && pendingConfigs === 0) { settings = structuredClone(state.settings); writeUrl(); syncControls(); layoutDiagram(); }
    },
    diverged: (m) => {
      const d = $("diverged"); d.textContent = `${m.message} (${m.detail})`; d.hidden = false;
      divergedAt = "next frame";   // the frame that follows shows the restored weights
    },
    trace: showTrace,
    model: downloadModel,
    prediction: (m) => { api.prediction = m.proba; },
  };

  let firstState = true;
  let defaults = null;
  let pendingConfigs = 0;   // configs sent and not yet answered
  let divergedAt = null;    // the step count the weights were restored to after a divergence
  function onState(message) {
    state = message;
    api.state = message;
    if (pendingConfigs > 0) pendingConfigs -= 1;
    if (firstState) {
      firstState = false;
      defaults = structuredClone(message.settings);
      const fromUrl = readUrl(message.settings);
      settings = fromUrl.settings;
      const data = lostData;
      lostData = null;
      if (fromUrl.lesson) { startLesson(fromUrl.lesson, false); return; }
      if (JSON.stringify(settings) !== JSON.stringify(message.settings)) sendConfig();
      if (data) send({ type: "restore_data", ...data });
      if (pendingConfigs > 0 || data) return;
    }
    // While more changes are on their way, the controls keep what the user set last: an
    // earlier answer must not undo a later click (the last answer brings them in line).
    if (pendingConfigs === 0) settings = structuredClone(message.settings);
    if (message.reset) {
      history = []; api.history = history; $("diverged").hidden = true; divergedAt = null;
      $("explain").hidden = true;   // its numbers belong to the old weights or data
      stuckDismissed = false;       // a new run: the "stuck" hint may come again
      $("stuck").hidden = true;
    }
    if (message.stuck_help) $("stuck-text").textContent = message.stuck_help;
    selectedClass = Math.min(selectedClass, message.classes.length - 1);
    writeUrl();
    syncControls();
    layoutDiagram();
    const u = $("untrainable");
    u.hidden = message.trainable;
    u.textContent = message.reason || "";
    for (const id of ["play", "step-minibatch", "step-epoch"]) $(id).disabled = !message.trainable;
  }

  // ---------------------------------------------------------------- decoding
  function bytes(b64) {
    const s = atob(b64), out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  const f32 = (b64) => new Float32Array(bytes(b64).buffer);
  const matrix = (m) => ({ rows: m.shape[0], cols: m.shape[1], data: f32(m.data) });

  function onFrame(m) {
    const decoded = {
      epoch: m.epoch, steps: m.steps, playing: m.playing, train: m.train, test: m.test,
      probabilities: bytes(m.probabilities),
      weights: m.weights.map(matrix), gradients: m.gradients.map(matrix),
      norms: m.gradient_norms, dead: m.dead, saturated: m.saturated || null, stuck: Boolean(m.stuck),
      hidden: m.hidden ? { layer: m.hidden.layer, neurons: m.hidden.neurons, train: f32(m.hidden.train), grid: f32(m.hidden.grid) } : null,
      maps: m.maps ? m.maps.map((layer) => ({ low: layer.low, high: layer.high, data: bytes(layer.data) })) : (frame ? frame.maps : null),
    };
    frame = decoded;
    api.frame = m;
    if (divergedAt === "next frame") divergedAt = m.steps;
    else if (divergedAt !== null && m.steps !== divergedAt) { $("diverged").hidden = true; divergedAt = null; }
    // Steps that were undone (a divergence restores the last good weights) leave the charts.
    while (history.length && history[history.length - 1].steps > m.steps) history.pop();
    const last = history[history.length - 1];
    if (!last || m.steps !== last.steps) {
      history.push({ steps: m.steps, epoch: m.epoch, trainLoss: m.train && m.train.loss, testLoss: m.test && m.test.loss,
        trainAcc: m.train && m.train.accuracy, testAcc: m.test && m.test.accuracy, norms: m.gradient_norms });
      if (history.length > 2000) history.splice(0, history.length - 2000);
    }
    drawRegions();
    showStuck(decoded.stuck);
    countFrame();
    $("epoch").textContent = m.epoch.toLocaleString("en");
    $("steps").textContent = m.steps.toLocaleString("en");
    const fmt = (v, pct) => (v === null || v === undefined ? "–" : pct ? `${(100 * v).toFixed(1)}%` : compact(v));
    $("train-loss").textContent = fmt(m.train && m.train.loss);
    $("test-loss").textContent = fmt(m.test && m.test.loss);
    $("train-acc").textContent = fmt(m.train && m.train.accuracy, true);
    $("test-acc").textContent = fmt(m.test && m.test.accuracy, true);
    $("play").textContent = m.playing ? "❚❚" : "▶";
    $("play").setAttribute("aria-label", m.playing ? "pause" : "play");
    // The decision regions follow every frame; the other views at most ~10 times a second.
    const now = performance.now();
    if (!m.playing || now - lastSecondaryDraw > 100) {
      lastSecondaryDraw = now;
      drawDiagram();
      drawHiddenView();
      drawCharts();
    }
  }
  let lastSecondaryDraw = 0;

  function countFrame() {
    frameTimes.push(performance.now());
    api.frames += 1;
    updateRate();
  }
  function updateRate() {
    const now = performance.now();
    while (frameTimes.length && frameTimes[0] < now - 1000) frameTimes.shift();
    api.framesPerSecond = frameTimes.length;
    $("fps").textContent = frame && !frame.playing ? "paused" : `${frameTimes.length} frames/s`;
  }
  setInterval(updateRate, 500);

  // ---------------------------------------------------------------- the plane
  const regions = $("regions");
  const rctx = regions.getContext("2d");
  const gridCanvas = document.createElement("canvas");

  function blend(probabilities, offset, k) {
    let r = 0, g = 0, b = 0, top = 0;
    for (let c = 0; c < k; c++) {
      const p = probabilities[offset + c] / 255;
      r += p * RGB[c][0]; g += p * RGB[c][1]; b += p * RGB[c][2];
      if (p > top) top = p;
    }
    const strength = Math.max(0, (top - 1 / k) / (1 - 1 / k)) * 0.55 + 0.1;
    return [255 + (r - 255) * strength, 255 + (g - 255) * strength, 255 + (b - 255) * strength];
  }

  function drawRegions() {
    if (!state || !frame) return;
    const n = state.grid, k = frame.probabilities.length / (n * n);
    gridCanvas.width = n; gridCanvas.height = n;
    const gctx = gridCanvas.getContext("2d");
    const image = gctx.createImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const [r, g, b] = blend(frame.probabilities, i * k, k);
      image.data[4 * i] = r; image.data[4 * i + 1] = g; image.data[4 * i + 2] = b; image.data[4 * i + 3] = 255;
    }
    gctx.putImageData(image, 0, 0);
    const W = regions.width, H = regions.height;
    rctx.imageSmoothingEnabled = true;
    rctx.drawImage(gridCanvas, 0, 0, n, n, 0, 0, W, H);
    drawAxes(rctx, W, H);
    for (const [subset, stroke] of [["train", "#ffffff"], ["test", "#1f2933"]]) {
      for (const [x1, x2, label] of state.points[subset]) {
        const [px, py] = toPixel(x1, x2);
        rctx.beginPath();
        rctx.arc(px, py, 4, 0, 2 * Math.PI);
        rctx.fillStyle = COLORS[label];
        rctx.fill();
        rctx.lineWidth = 1.2;
        rctx.strokeStyle = stroke;
        rctx.stroke();
      }
    }
    drawCursor();
  }

  function drawAxes(ctx, W, H) {
    ctx.strokeStyle = "rgba(0,0,0,0.18)";
    ctx.lineWidth = 1;
    const [ox, oy] = toPixel(0, 0);
    ctx.beginPath(); ctx.moveTo(0, oy); ctx.lineTo(W, oy); ctx.moveTo(ox, 0); ctx.lineTo(ox, H); ctx.stroke();
    ctx.fillStyle = "rgba(0,0,0,0.45)";
    ctx.font = "11px system-ui, sans-serif";
    const e = state.extent;
    ctx.fillText("x1", W - 16, oy - 6);
    ctx.fillText("x2", ox + 6, 12);
    ctx.fillText(`[${(-e).toFixed(1)}, ${e.toFixed(1)}]²`, 6, H - 6);
  }

  function toPixel(x1, x2) {
    const e = state.extent, W = regions.width, H = regions.height;
    return [((x1 + e) / (2 * e)) * W, ((e - x2) / (2 * e)) * H];
  }
  function fromPixel(px, py) {
    const e = state.extent, W = regions.width, H = regions.height;
    return [(px / W) * 2 * e - e, e - (py / H) * 2 * e];
  }
  function nearestPoint(px, py, reach) {
    let best = null;
    for (const subset of ["train", "test"]) {
      state.points[subset].forEach(([x1, x2], index) => {
        const [qx, qy] = toPixel(x1, x2);
        const d = Math.hypot(qx - px, qy - py);
        if (d <= reach && (!best || d < best.d)) best = { d, subset, index, x1, x2 };
      });
    }
    return best;
  }
  function canvasXY(event, canvas) {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) / box.width) * canvas.width, ((event.clientY - box.top) / box.height) * canvas.height];
  }
  regions.addEventListener("contextmenu", (event) => event.preventDefault());
  regions.addEventListener("mousedown", (event) => {
    if (!state) return;
    const [px, py] = canvasXY(event, regions);
    const remove = event.shiftKey || event.button === 2;
    const hit = nearestPoint(px, py, 7);
    if (remove) {
      if (hit) send({ type: "remove_point", x: [hit.x1, hit.x2], radius: 1e-6 });
      return;
    }
    if (hit) { send({ type: "explain", subset: hit.subset, index: hit.index }); return; }
    send({ type: "add_point", x: fromPixel(px, py), label: selectedClass });
  });

  // The plane from the keyboard: Tab focuses it, the arrow keys move a cross (Shift: five
  // times as far), Enter explains the point nearest the cross, A adds a point of the chosen
  // class at the cross, Delete or Backspace removes the nearest point, 1-6 pick the class.
  const CURSOR_STEPS = 50;   // a plain arrow key moves the cross 1/50 of the plane
  let cursor = null;         // [x1, x2] of the cross, in the plane's coordinates
  let planeKeys = false;     // the plane was last used from the keyboard (not the mouse)
  api.plane = () => ({ cursor, focused: document.activeElement === regions && planeKeys });
  function cursorShown() { return cursor !== null && document.activeElement === regions && planeKeys; }
  function nearestToCursor() {
    if (!state || !cursor) return null;
    const [px, py] = toPixel(cursor[0], cursor[1]);
    return nearestPoint(px, py, Infinity);
  }
  function planeStatus() {
    const box = $("plane-status");
    if (!cursorShown()) { box.hidden = true; return; }
    const near = nearestToCursor();
    const where = `Cross at (${cursor[0].toFixed(2)}, ${cursor[1].toFixed(2)}).`;
    const what = near ? ` Nearest: ${near.subset} point ${near.index}, class ${state.classes[state.points[near.subset][near.index][2]]}, at (${near.x1.toFixed(2)}, ${near.x2.toFixed(2)}).` : " No points.";
    box.textContent = `${where}${what} Enter explains it, A adds a class ${state.classes[selectedClass]} point at the cross, Delete removes it.`;
    box.hidden = false;
  }
  function drawCursor() {
    if (!cursorShown()) return;
    const [cx, cy] = toPixel(cursor[0], cursor[1]);
    const near = nearestToCursor();
    rctx.save();
    if (near) {
      const [qx, qy] = toPixel(near.x1, near.x2);
      rctx.beginPath(); rctx.arc(qx, qy, 8, 0, 2 * Math.PI);
      rctx.lineWidth = 2; rctx.strokeStyle = "#1f2933"; rctx.setLineDash([3, 2]); rctx.stroke(); rctx.setLineDash([]);
    }
    for (const [width, color] of [[4, "#ffffff"], [2, "#1f2933"]]) {
      rctx.lineWidth = width; rctx.strokeStyle = color; rctx.beginPath();
      rctx.moveTo(cx - 11, cy); rctx.lineTo(cx - 3, cy); rctx.moveTo(cx + 3, cy); rctx.lineTo(cx + 11, cy);
      rctx.moveTo(cx, cy - 11); rctx.lineTo(cx, cy - 3); rctx.moveTo(cx, cy + 3); rctx.lineTo(cx, cy + 11);
      rctx.stroke();
    }
    rctx.restore();
  }
  function redrawPlane() { drawRegions(); planeStatus(); }
  regions.addEventListener("mousedown", () => { if (planeKeys) { planeKeys = false; redrawPlane(); } });
  regions.addEventListener("focus", () => {
    if (regions.matches(":focus-visible")) planeKeys = true;
    if (cursor === null) cursor = [0, 0];
    redrawPlane();
  });
  regions.addEventListener("blur", () => { redrawPlane(); });
  const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
  regions.addEventListener("keydown", (event) => {
    if (!state || event.ctrlKey || event.metaKey || event.altKey) return;
    if (cursor === null) cursor = [0, 0];
    const e = state.extent;
    const key = event.key;
    if (ARROWS[key]) {
      const size = ((2 * e) / CURSOR_STEPS) * (event.shiftKey ? 5 : 1);
      cursor = cursor.map((v, i) => Math.min(e, Math.max(-e, v + ARROWS[key][i] * size)));
    } else if (key === "Enter" || key === " ") {
      const near = nearestToCursor();
      if (near) { explainReturn = regions; send({ type: "explain", subset: near.subset, index: near.index }); }
    } else if (key === "a" || key === "A") {
      send({ type: "add_point", x: [cursor[0], cursor[1]], label: selectedClass });
    } else if (key === "Delete" || key === "Backspace") {
      const near = nearestToCursor();
      if (near) send({ type: "remove_point", x: [near.x1, near.x2], radius: 1e-6 });
    } else if (/^[1-9]$/.test(key) && Number(key) <= state.classes.length) {
      selectedClass = Number(key) - 1; syncControls();
    } else return;
    event.preventDefault();
    planeKeys = true;
    redrawPlane();
  });

  // The "stuck" hint: the server says when the loss has stopped improving at chance level with
  // most hidden units saturated; a learner may dismiss it for the rest of the run.
  let stuckDismissed = false;
  function showStuck(stuck) { $("stuck").hidden = !stuck || stuckDismissed; }
  $("stuck-close").onclick = () => { stuckDismissed = true; $("stuck").hidden = true; };

  // ---------------------------------------------------------------- diagram
  const diagram = $("diagram");
  const svg = $("edges");
  let layout = null;   // {columns: [{x, units: [{x, y, size, canvas}]}], edges: [...]}

  function layoutDiagram() {
    for (const node of diagram.querySelectorAll(".neuron, .layer-head")) node.remove();
    svg.replaceChildren();
    const sizes = state.sizes;
    const width = diagram.clientWidth || 600;
    const most = Math.max(...sizes);
    const size = Math.max(12, Math.min(34, Math.floor(440 / most) - 4));
    const gap = Math.max(3, Math.min(12, size / 3));
    const top = 64;
    const height = top + most * (size + gap) + 10;
    diagram.style.height = `${height}px`;
    const left = 40, right = width - 40;
    const columns = sizes.map((units, c) => {
      const x = left + ((right - left) * c) / (sizes.length - 1);
      const span = units * (size + gap) - gap;
      const y0 = top + (most * (size + gap) - gap - span) / 2;
      const cells = [];
      for (let j = 0; j < units; j++) {
        const div = document.createElement("div");
        div.className = c === 0 ? "neuron input" : "neuron";
        div.style.cssText = `left:${x - size / 2}px; top:${y0 + j * (size + gap)}px; width:${size}px; height:${size}px`;
        const canvas = document.createElement("canvas");
        canvas.width = state.map_grid; canvas.height = state.map_grid;
        div.appendChild(canvas);
        if (c === 0) { const tag = document.createElement("span"); tag.className = "tag"; tag.textContent = `x${j + 1}`; div.appendChild(tag); }
        const l = c, activation = c === 0 ? "input" : state.activations[c - 1];
        div.dataset.layer = String(l); div.dataset.neuron = String(j);
        div.addEventListener("mousemove", (event) => neuronTip(event, l, j, activation));
        div.addEventListener("mouseleave", hideTip);
        diagram.appendChild(div);
        cells.push({ x, y: y0 + j * (size + gap) + size / 2, size, canvas });
      }
      return { x, cells };
    });
    columns.forEach((column, c) => {
      const head = document.createElement("div");
      head.className = "layer-head";
      head.style.left = `${column.x}px`;
      if (c === 0) head.innerHTML = "<span>input</span><span>h<sup>(0)</sup> = x</span>";
      else if (c === columns.length - 1) head.innerHTML = `<span>output</span><span>${state.settings.output === "step" ? "step" : "softmax"} h<sup>(${c})</sup></span>`;
      else head.appendChild(layerControls(c - 1));
      diagram.appendChild(head);
    });
    const edges = [];
    const NS = "http://www.w3.org/2000/svg";
    for (let l = 1; l < columns.length; l++) {
      const from = columns[l - 1].cells, to = columns[l].cells;
      to.forEach((target, j) => from.forEach((source, k) => {
        const line = document.createElementNS(NS, "line");
        line.setAttribute("x1", source.x + source.size / 2); line.setAttribute("y1", source.y);
        line.setAttribute("x2", target.x - target.size / 2); line.setAttribute("y2", target.y);
        line.setAttribute("stroke", "#ccc");
        const hit = line.cloneNode();
        hit.setAttribute("class", "hit");
        const edge = { l, j, k, line };
        hit.addEventListener("mousemove", (event) => edgeTip(event, edge));
        hit.addEventListener("mouseleave", hideTip);
        hit.addEventListener("click", () => { pinnedEdge = edge; edgeInfo(); });
        svg.appendChild(line);
        svg.appendChild(hit);
        hit.dataset.edge = `${l}-${j}-${k}`;
        edges.push(edge);
      }));
    }
    layout = { columns, edges };
    $("layer-count").textContent = `${sizes.length - 2} hidden`;
    $("add-layer").disabled = sizes.length - 2 >= MAX_LAYERS;
    $("remove-layer").disabled = sizes.length - 2 <= 0;
    if (pinnedEdge && !edges.some((e) => e.l === pinnedEdge.l && e.j === pinnedEdge.j && e.k === pinnedEdge.k)) pinnedEdge = null;
    syncViewControls();
    if (frame) drawDiagram();
  }

  function layerControls(index) {
    const box = document.createElement("div");
    const layer = settings.hidden[index] || state.settings.hidden[index];
    const units = document.createElement("div");
    units.className = "units";
    const minus = document.createElement("button"); minus.textContent = "−"; minus.title = "Remove a neuron";
    const plus = document.createElement("button"); plus.textContent = "+"; plus.title = "Add a neuron";
    // Each hidden layer has these controls: their names say which layer they change.
    minus.setAttribute("aria-label", `remove a neuron from hidden layer ${index + 1}`);
    plus.setAttribute("aria-label", `add a neuron to hidden layer ${index + 1}`);
    const count = document.createElement("span"); count.textContent = `${layer.units}`;
    minus.disabled = layer.units <= 1; plus.disabled = layer.units >= MAX_UNITS;
    const change = (delta) => {
      const now = settings.hidden[index];
      if (!now || now.units + delta < 1 || now.units + delta > MAX_UNITS) return;
      now.units += delta; count.textContent = `${now.units}`;
      minus.disabled = now.units <= 1; plus.disabled = now.units >= MAX_UNITS;
      sendConfig();
    };
    minus.onclick = () => change(-1);
    plus.onclick = () => change(1);
    units.append(minus, count, plus);
    const select = document.createElement("select");
    select.className = "activation";
    select.setAttribute("aria-label", `activation of hidden layer ${index + 1}`);
    for (const a of ACTIVATIONS) select.add(new Option(SHORT[a], a, false, a === layer.activation));
    select.onchange = () => { if (settings.hidden[index]) { settings.hidden[index].activation = select.value; sendConfig(); } };
    box.append(units, select);
    box.style.display = "contents";
    return box;
  }

  function edgeColor(w) {
    return w >= 0 ? "#1f77b4" : "#f28e2b";
  }

  function drawDiagram() {
    if (!layout || !frame) return;
    let largest = 1e-9;
    for (const W of frame.weights) for (const v of W.data) largest = Math.max(largest, Math.abs(v));
    for (const edge of layout.edges) {
      const W = frame.weights[edge.l - 1];
      if (!W || edge.j >= W.rows || edge.k >= W.cols - 1) continue;
      const w = W.data[edge.j * W.cols + edge.k];
      edge.line.setAttribute("stroke", edgeColor(w));
      edge.line.setAttribute("stroke-width", (0.4 + 4.5 * Math.abs(w) / largest).toFixed(2));
      edge.line.setAttribute("stroke-opacity", (0.25 + 0.75 * Math.abs(w) / largest).toFixed(2));
    }
    const n = state.map_grid;
    layout.columns.forEach((column, c) => column.cells.forEach((cell, j) => {
      const ctx = cell.canvas.getContext("2d");
      const image = ctx.createImageData(n, n);
      for (let p = 0; p < n * n; p++) {
        let v;
        if (c === 0) {
          const row = Math.floor(p / n), col = p % n;
          v = j === 0 ? col / (n - 1) : 1 - row / (n - 1);
        } else {
          if (!frame.maps || !frame.maps[c - 1]) return;
          v = frame.maps[c - 1].data[j * n * n + p] / 255;
        }
        const t = 2 * v - 1;   // low -> orange, high -> blue
        const rgb = t < 0 ? RGB[0] : RGB[1], a = Math.abs(t);
        image.data[4 * p] = 255 + (rgb[0] - 255) * a;
        image.data[4 * p + 1] = 255 + (rgb[1] - 255) * a;
        image.data[4 * p + 2] = 255 + (rgb[2] - 255) * a;
        image.data[4 * p + 3] = 255;
      }
      ctx.putImageData(image, 0, 0);
    }));
    if (pinnedEdge) edgeInfo();
  }

  // A loss of 0.0004 must not read as 0.000: small and huge values keep two significant digits.
  function compact(v) {
    const a = Math.abs(v);
    if (a === 0 || (a >= 0.01 && a < 1e5)) return v.toFixed(a >= 1000 ? 0 : 3);
    return a >= 1e-4 && a < 0.01 ? v.toPrecision(2) : v.toExponential(1);
  }
  api.compact = compact;
  const num = (v, digits = 4) => (v === null || v === undefined ? "–" : Number(v).toPrecision(digits));
  function edgeValues(edge) {
    const W = frame.weights[edge.l - 1], G = frame.gradients[edge.l - 1];
    const i = edge.j * W.cols + edge.k;
    return { w: W.data[i], g: G.data[i] };
  }
  function edgeText(edge) {
    const { w, g } = edgeValues(edge);
    const j = edge.j + firstIndex(state.activations[edge.l - 1]);
    const k = edge.k + firstIndex(edge.l > 1 ? state.activations[edge.l - 2] : "input");
    // w_{12,1}, not w_121 (which could be w_{1,21}): a comma once an index has two digits.
    const name = `<sub>${j > 9 || k > 9 ? `${j},${k}` : `${j}${k}`}</sub><sup>(${edge.l})</sup>`;
    return `w${name} = <b>${num(w)}</b> &nbsp; ∂L/∂w${name} = <b>${num(g)}</b> <span class="label">(neuron ${j} of layer ${edge.l} ← input ${k})</span>`;
  }
  function edgeInfo() { if (pinnedEdge && frame) $("edge-info").innerHTML = edgeText(pinnedEdge); }
  const tooltip = $("tooltip");
  function tip(event, html) {
    tooltip.innerHTML = html;
    tooltip.hidden = false;
    const room = window.innerWidth - event.clientX;
    tooltip.style.left = room > tooltip.offsetWidth + 24 ? `${event.clientX + 12}px` : `${event.clientX - tooltip.offsetWidth - 12}px`;
    tooltip.style.top = `${event.clientY + 12}px`;
  }
  function hideTip() { tooltip.hidden = true; }
  function edgeTip(event, edge) { if (frame) tip(event, edgeText(edge)); }
  function neuronTip(event, l, j, activation) {
    if (l === 0) { tip(event, `input x${j + 1} = h<sub>${j + 1}</sub><sup>(0)</sup>`); return; }
    const W = frame && frame.weights[l - 1];
    const bias = W ? W.data[j * W.cols + W.cols - 1] : null;
    const map = frame && frame.maps && frame.maps[l - 1];
    const range = map ? ` &nbsp; h over the plane: ${num(map.low[j], 3)} … ${num(map.high[j], 3)}` : "";
    const n = j + firstIndex(activation);
    tip(event, `h<sub>${n}</sub><sup>(${l})</sup> = ${SHORT[activation] || activation}(e<sub>${n}</sub><sup>(${l})</sup>) &nbsp; bias weight ${num(bias)}${range}`);
  }

  // ---------------------------------------------------------------- hidden-layer view
  function syncViewControls() {
    const hidden = state.sizes.length - 2;
    const layerSelect = $("view-layer"), a = $("view-a"), b = $("view-b");
    const current = Number(layerSelect.value || 1);
    layerSelect.replaceChildren();
    for (let l = 1; l <= hidden; l++) layerSelect.add(new Option(String(l), String(l)));
    layerSelect.value = String(Math.min(Math.max(1, current), Math.max(1, hidden)));
    const units = hidden ? state.sizes[Number(layerSelect.value)] : 1;
    for (const [select, fallback] of [[a, 0], [b, 1]]) {
      const keep = Number(select.value || fallback);
      select.replaceChildren();
      for (let j = 0; j < units; j++) select.add(new Option(`h${j + 1}`, String(j)));
      select.value = String(Math.min(keep, units - 1));
    }
    // A smaller layer clamps the choice here; the server must then draw what the menus say,
    // not go back to the neurons chosen before once the layer grows again.
    if (hidden && viewKey() !== viewSent) sendView();
  }
  const viewMessage = () => ({ type: "view", layer: Number($("view-layer").value || 1), neurons: [Number($("view-a").value || 0), Number($("view-b").value || 0)], maps: true });
  const viewKey = () => JSON.stringify(viewMessage());
  const DEFAULT_VIEW = JSON.stringify({ type: "view", layer: 1, neurons: [0, 1], maps: true });   // a new session's
  let viewSent = DEFAULT_VIEW;   // the view the session draws
  function sendView() {
    if (send(viewMessage())) viewSent = viewKey();
  }
  $("view-layer").onchange = () => { syncViewControls(); sendView(); };
  $("view-a").onchange = sendView;
  $("view-b").onchange = sendView;

  function drawHiddenView() {
    const canvas = $("hidden-view"), ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#fafbfc"; ctx.fillRect(0, 0, W, H);
    const view = frame && frame.hidden;
    if (!view) {
      ctx.fillStyle = "#6b7785"; ctx.font = "12px system-ui, sans-serif";
      ctx.fillText("No hidden layer to show.", 12, H / 2);
      return;
    }
    // Each axis gets its own range: one neuron may saturate while the other spreads the data.
    const lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
    for (const values of [view.train, view.grid]) {
      for (let i = 0; i < values.length; i++) {
        const v = values[i], axis = i % 2;
        if (Number.isFinite(v)) { lo[axis] = Math.min(lo[axis], v); hi[axis] = Math.max(hi[axis], v); }
      }
    }
    for (const axis of [0, 1]) {
      if (!(hi[axis] - lo[axis] > 1e-6)) { lo[axis] -= 0.5; hi[axis] += 0.5; }
      const pad = 0.06 * (hi[axis] - lo[axis]);
      lo[axis] -= pad; hi[axis] += pad;
    }
    const px = (v) => ((v - lo[0]) / (hi[0] - lo[0])) * W, py = (v) => H - ((v - lo[1]) / (hi[1] - lo[1])) * H;
    const n = state.grid, m = state.map_grid, stride = n / m, k = frame.probabilities.length / (n * n);
    for (let p = 0; p < m * m; p++) {
      const row = Math.floor(p / m) * stride, col = (p % m) * stride;
      const [r, g, b] = blend(frame.probabilities, (row * n + col) * k, k);
      ctx.fillStyle = `rgb(${r | 0},${g | 0},${b | 0})`;
      ctx.fillRect(px(view.grid[2 * p]) - 3, py(view.grid[2 * p + 1]) - 3, 6, 6);
    }
    state.points.train.forEach(([, , label], i) => {
      ctx.beginPath();
      ctx.arc(px(view.train[2 * i]), py(view.train[2 * i + 1]), 3, 0, 2 * Math.PI);
      ctx.fillStyle = COLORS[label]; ctx.fill();
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 1; ctx.stroke();
    });
    ctx.fillStyle = "#6b7785"; ctx.font = "11px system-ui, sans-serif";
    ctx.fillText(`h${view.neurons[0] + 1}(${view.layer}) →`, W - 70, H - 6);
    ctx.save(); ctx.translate(12, 70); ctx.rotate(-Math.PI / 2); ctx.fillText(`h${view.neurons[1] + 1}(${view.layer}) →`, 0, 0); ctx.restore();
  }

  // ---------------------------------------------------------------- charts
  const charts = {
    loss: { canvas: $("loss-chart"), series: [["trainLoss", "#1f2933"], ["testLoss", "#e8710a"]], format: (v) => compact(v) },
    accuracy: { canvas: $("accuracy-chart"), series: [["trainAcc", "#1f2933"], ["testAcc", "#e8710a"]], format: (v) => `${(100 * v).toFixed(1)}%`, range: [0, 1] },
  };
  const LAYER_COLORS = ["#1f77b4", "#2ca02c", "#9467bd", "#d62728", "#17becf", "#8c564b", "#e377c2"];

  function thin(list, most = 400) {
    if (list.length <= most) return list;
    const every = Math.ceil(list.length / most), out = [];
    for (let i = list.length - 1; i >= 0; i -= every) out.push(list[i]);
    return out.reverse();
  }

  function drawChart(chart, hover) {
    const { canvas } = chart, ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    const padL = 42, padB = 16, padT = 6, padR = 8;
    ctx.clearRect(0, 0, W, H);
    const points = thin(history);
    let lo = chart.range ? chart.range[0] : Infinity, hi = chart.range ? chart.range[1] : -Infinity;
    if (!chart.range) {
      for (const p of points) for (const [key] of chart.series) { const v = p[key]; if (v !== null && v !== undefined && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }
      if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
      lo = Math.min(lo, 0); if (hi <= lo) hi = lo + 1;
    }
    const x = (i) => padL + (points.length > 1 ? (i / (points.length - 1)) * (W - padL - padR) : 0);
    const y = (v) => padT + (1 - (v - lo) / (hi - lo)) * (H - padT - padB);
    ctx.strokeStyle = "#e6e9ed"; ctx.fillStyle = "#6b7785"; ctx.font = "10px system-ui, sans-serif"; ctx.lineWidth = 1;
    for (let t = 0; t <= 2; t++) {
      const v = lo + ((hi - lo) * t) / 2;
      ctx.beginPath(); ctx.moveTo(padL, y(v)); ctx.lineTo(W - padR, y(v)); ctx.stroke();
      ctx.fillText(chart.format(v), 2, y(v) + 3);
    }
    if (points.length) ctx.fillText(`step ${points[points.length - 1].steps}`, W - 70, H - 3);
    for (const [key, color] of chart.series) {
      ctx.strokeStyle = color; ctx.lineWidth = 1.6; ctx.beginPath();
      let started = false;
      points.forEach((p, i) => {
        const v = p[key];
        if (v === null || v === undefined) { started = false; return; }
        if (!started) { ctx.moveTo(x(i), y(v)); started = true; } else ctx.lineTo(x(i), y(v));
      });
      ctx.stroke();
    }
    if (hover !== undefined && points.length) {
      const i = Math.max(0, Math.min(points.length - 1, Math.round(((hover - padL) / (W - padL - padR)) * (points.length - 1))));
      ctx.strokeStyle = "rgba(0,0,0,.35)"; ctx.beginPath(); ctx.moveTo(x(i), padT); ctx.lineTo(x(i), H - padB); ctx.stroke();
      return i;
    }
    return null;
  }

  function drawGradientChart() {
    const canvas = $("gradient-chart"), ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    const padL = 38, padB = 14, padT = 18;
    let lo = Infinity, hi = -Infinity;
    for (const p of thin(history)) for (const v of p.norms || []) if (v > 0) { lo = Math.min(lo, Math.log10(v)); hi = Math.max(hi, Math.log10(v)); }
    if (!Number.isFinite(lo)) { lo = -4; hi = 0; }
    lo = Math.floor(lo); hi = Math.ceil(hi); if (hi === lo) hi = lo + 1;
    const points = thin(history);
    const x = (i) => padL + (points.length > 1 ? (i / (points.length - 1)) * (W - padL - 6) : 0);
    const y = (v) => padT + (1 - (v - lo) / (hi - lo)) * (H - padT - padB);
    ctx.font = "10px system-ui, sans-serif"; ctx.fillStyle = "#6b7785"; ctx.strokeStyle = "#e6e9ed";
    // At most about six labelled lines, however many decades the norms span.
    const every = Math.max(1, Math.ceil((hi - lo) / 6));
    const ticks = [];
    for (let e = hi; e >= lo; e -= every) { ctx.beginPath(); ctx.moveTo(padL, y(e)); ctx.lineTo(W, y(e)); ctx.stroke(); ctx.fillText(`1e${e}`, 2, y(e) + 3); ticks.push(e); }
    api.gradientTicks = ticks;
    const layers = history.length ? (history[history.length - 1].norms || []).length : 0;
    ctx.fillStyle = "#6b7785";
    ctx.fillText("‖∂L/∂W(l)‖, l =", padL + 4, 11);
    let legendX = padL + 10 + ctx.measureText("‖∂L/∂W(l)‖, l =").width;
    for (let l = 0; l < layers; l++) {
      ctx.strokeStyle = LAYER_COLORS[l % LAYER_COLORS.length]; ctx.lineWidth = 1.4; ctx.beginPath();
      let started = false;
      points.forEach((p, i) => {
        const v = p.norms && p.norms[l];
        if (!(v > 0)) { started = false; return; }
        if (!started) { ctx.moveTo(x(i), y(Math.log10(v))); started = true; } else ctx.lineTo(x(i), y(Math.log10(v)));
      });
      ctx.stroke();
      ctx.fillStyle = LAYER_COLORS[l % LAYER_COLORS.length];
      ctx.fillText(String(l + 1), legendX, 11);
      legendX += 14;
    }
    const dead = frame ? frame.dead : [];
    const parts = dead.map((d, i) => (d === null ? null : `layer ${i + 1}: ${d}/${state.sizes[i + 1]}`)).filter(Boolean);
    $("dead").textContent = parts.length ? `Dead ReLU units (e ≤ 0 on every training point): ${parts.join(", ")}` : "Dead ReLU units: no ReLU layer.";
    const saturated = frame && frame.saturated ? frame.saturated : [];
    if (saturated.length) {
      const line = document.createElement("div");
      line.textContent = `Saturated units (g'(e) ≈ 0 on 90% of training points): ${saturated.map((n, i) => `layer ${i + 1}: ${n}/${state.sizes[i + 1]}`).join(", ")}`;
      $("dead").appendChild(line);
    }
  }

  function drawCharts() {
    for (const chart of Object.values(charts)) drawChart(chart);
    drawGradientChart();
  }
  for (const chart of Object.values(charts)) {
    chart.canvas.addEventListener("mousemove", (event) => {
      const [px] = canvasXY(event, chart.canvas);
      const i = drawChart(chart, px);
      if (i === null) return;
      const p = thin(history)[i];
      const values = chart.series.map(([key]) => `${key.startsWith("train") ? "train" : "test"} ${p[key] === null || p[key] === undefined ? "–" : chart.format(p[key])}`);
      tip(event, `epoch ${p.epoch}, step ${p.steps}: ${values.join(", ")}`);
    });
    chart.canvas.addEventListener("mouseleave", () => { hideTip(); drawChart(chart); });
  }

  // ---------------------------------------------------------------- explain a point
  const sub = (j, l) => `<sub>${j}</sub><sup>(${l})</sup>`;
  const cell = (v, digits = 5) => `<td data-value="${v}">${num(v, digits)}</td>`;

  function showTrace(message) {
    // chainrule.engine.explain.to_dict keeps one row per token; the page explains one token.
    const first = (a) => (a === null ? null : a[0]);
    const raw = message.trace;
    const t = { ...raw, x: first(raw.x), y: first(raw.y), layers: raw.layers.map((layer) => ({
      ...layer, h_prev: first(layer.h_prev), e: first(layer.e), h: first(layer.h), dL_dh: first(layer.dL_dh), dL_de: first(layer.dL_de) })) };
    api.lastTrace = message;
    const L = t.layers.length;
    const parts = [];
    const base = (i) => firstIndex(i >= 0 ? t.layers[i].activation : "input");   // layer i + 1's first j
    const outputUnit = t.y === null ? null : t.y + base(L - 1);
    parts.push(`<p>Token x = (${t.x.map((v) => num(v)).join(", ")}) from the ${message.subset} set, index ${message.index}${t.y === null ? "" : `, target class y = ${t.y}${outputUnit === t.y ? "" : ` (output unit j = ${outputUnit})`}`}.
      Every number below was recorded from chainrule's own forward and backward pass (<code>chainrule.trace</code>).</p>`);
    parts.push("<h3>Forward pass</h3>");
    t.layers.forEach((layer, i) => {
      const l = layer.l, j0 = base(i);
      parts.push(`<p><b>Layer ${l}</b> (${SHORT[layer.activation] || layer.activation}): e${sub("j", l)} = Σ<sub>k</sub> w${sub("jk", l)} h${sub("k", l - 1)} + w${sub("j,bias", l)}, &nbsp; h${sub("j", l)} = g(e${sub("j", l)})</p>`);
      const rows = layer.e.map((e, j) => {
        const W = layer.W[j];
        const terms = layer.h_prev.length <= 4
          ? `${layer.h_prev.map((h, k) => `(${num(W[k], 4)})(${num(h, 4)})`).join(" + ")} + (${num(W[W.length - 1], 4)})`
          : `${layer.h_prev.length} terms + bias`;
        return `<tr><th>j = ${j + j0}</th><td class="note">${terms}</td>${cell(e)}${cell(layer.h[j])}</tr>`;
      }).join("");
      parts.push(`<table data-layer="${l}" data-kind="forward"><tr><th></th><th>Σ w h</th><th>e${sub("j", l)}</th><th>h${sub("j", l)}</th></tr>${rows}</table>`);
    });
    if (t.loss_name === null) {
      parts.push(`<p class="note">This network has step units: u'(e) is 0 almost everywhere, so there is no backward pass to show.</p>`);
    } else {
      parts.push(`<h3>Loss</h3><p>L = −ln h${sub("y", L)} = −ln ${num(t.layers[L - 1].h[t.y], 6)} = <b data-value="${t.loss}">${num(t.loss, 6)}</b> (${t.loss_name.replace("_", "-")})</p>`);
      parts.push("<h3>Backward pass</h3>");
      for (let i = L - 1; i >= 0; i--) {
        const layer = t.layers[i], l = layer.l, j0 = base(i), k0 = base(i - 1);
        const fused = l === L && layer.activation === "softmax";
        parts.push(`<p><b>Layer ${l}</b>: ${fused ? `with softmax and cross-entropy, ∂L/∂e${sub("j", l)} = h${sub("j", l)} − [j = y]` : `∂L/∂e${sub("j", l)} = ∂L/∂h${sub("j", l)} · g'(e${sub("j", l)})`}${l < L ? `, where ∂L/∂h${sub("k", l)} = Σ<sub>j</sub> w${sub("jk", l + 1)} ∂L/∂e${sub("j", l + 1)}` : ""}</p>`);
        const rows = layer.e.map((_, j) => `<tr><th>j = ${j + j0}</th>${cell(layer.dL_dh ? layer.dL_dh[j] : null)}${cell(layer.dL_de[j])}</tr>`).join("");
        parts.push(`<table data-layer="${l}" data-kind="backward"><tr><th></th><th>∂L/∂h${sub("j", l)}</th><th>∂L/∂e${sub("j", l)}</th></tr>${rows}</table>`);
        const head = layer.h_prev.map((_, k) => `<th>k = ${k + k0}</th>`).join("") + "<th>bias</th>";
        const grad = layer.dL_dW.map((row, j) => `<tr><th>j = ${j + j0}</th>${row.map((v) => cell(v)).join("")}</tr>`).join("");
        parts.push(`<p>∂L/∂w${sub("jk", l)} = ∂L/∂e${sub("j", l)} · h${sub("k", l - 1)} (the bias column sees h = 1):</p>`);
        parts.push(`<table data-layer="${l}" data-kind="gradient"><tr><th></th>${head}</tr>${grad}</table>`);
        const update = layer.W_updated.map((row, j) => `<tr><th>j = ${j + j0}</th>${row.map((v, k) => `<td data-value="${v}" title="${num(layer.W[j][k], 6)} − ${num(t.learning_rate)} × ${num(layer.dL_dW[j][k], 6)}">${num(v, 5)}</td>`).join("")}</tr>`).join("");
        parts.push(`<p>Update with η = ${t.learning_rate}: w${sub("jk", l)} ← w${sub("jk", l)} − η ∂L/∂w${sub("jk", l)} (hover a cell for the sum):</p>`);
        parts.push(`<table data-layer="${l}" data-kind="update"><tr><th></th>${head}</tr>${update}</table>`);
      }
      if (message.optimizer !== "sgd") parts.push(`<p class="note">The update shown is the lecture's plain gradient descent on this one token; training uses ${message.optimizer} on minibatches.</p>`);
    }
    $("explain-title").textContent = `Explain the ${message.subset} point ${message.index}`;
    $("explain-body").innerHTML = parts.join("");
    $("explain").hidden = false;
    $("explain-close").focus({ preventScroll: true });
  }
  let explainReturn = null;   // where focus goes back when the explanation closes
  function closeExplain() {
    $("explain").hidden = true;
    if (explainReturn) explainReturn.focus({ preventScroll: true }); else $("explain-close").blur();
    explainReturn = null;
  }
  $("explain-close").onclick = closeExplain;
  regions.addEventListener("mousedown", () => { explainReturn = null; });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("explain").hidden) closeExplain();
  });

  // ---------------------------------------------------------------- settings, controls, URL
  function fillSelect(select, values, current) {
    const list = values.includes(current) ? values : [...values, current].sort((a, b) => a - b);
    select.replaceChildren(...list.map((v) => new Option(String(v), String(v), false, v === current)));
  }
  const RANGES = ["n_points", "noise", "n_classes", "train_ratio", "batch_size", "speed"];
  function syncControls() {
    for (const key of RANGES) {
      $(key).value = settings[key];
      $(`${key}-out`).textContent = key === "train_ratio" ? `${Math.round(settings[key] * 100)}%` : settings[key];
    }
    $("n_classes").disabled = ["xor", "moons"].includes(settings.dataset);
    fillSelect($("learning_rate"), LEARNING_RATES, settings.learning_rate);
    fillSelect($("l2"), L2_VALUES, settings.l2);
    $("optimizer").value = settings.optimizer;
    $("seed").value = settings.seed;
    $("lesson").value = lesson;
    for (const b of document.querySelectorAll("#datasets button")) b.classList.toggle("active", b.dataset.dataset === settings.dataset && state.source === "generated");
    const picker = $("class-picker");
    picker.replaceChildren(...state.classes.map((name, c) => {
      const b = document.createElement("button");
      b.style.background = COLORS[c]; b.title = `class ${name}`;
      b.classList.toggle("active", c === selectedClass);
      b.onclick = () => { selectedClass = c; syncControls(); };
      return b;
    }));
    $("legend").innerHTML = state.classes.map((name, c) => `<span><i style="background:${COLORS[c]}"></i>class ${name}</span>`).join("")
      + '<span><i style="background:#fff;border:1px solid #999"></i>train</span><span><i style="background:#fff;border:2px solid #1f2933"></i>test</span>';
  }

  function sendConfig() {
    if (send({ type: "config", settings })) pendingConfigs += 1;
    writeUrl();
  }
  for (const key of RANGES) {
    $(key).addEventListener("input", () => { $(`${key}-out`).textContent = key === "train_ratio" ? `${Math.round(Number($(key).value) * 100)}%` : $(key).value; });
    $(key).addEventListener("change", () => { settings[key] = Number($(key).value); sendConfig(); });
  }
  for (const key of ["learning_rate", "l2"]) $(key).addEventListener("change", () => { settings[key] = Number($(key).value); sendConfig(); });
  $("optimizer").addEventListener("change", () => { settings.optimizer = $("optimizer").value; sendConfig(); });
  $("seed").addEventListener("change", () => {
    const text = $("seed").value.trim(), seed = Number(text);
    if (text !== "" && Number.isInteger(seed) && seed >= 0 && seed < 2 ** 31) { settings.seed = seed; sendConfig(); return; }
    showError(`The seed must be a whole number from 0 to 2147483647; it stays ${settings.seed}.`);
    $("seed").value = settings.seed;   // the box shows the seed the run uses
  });
  for (const b of document.querySelectorAll("#datasets button")) b.onclick = () => { settings.dataset = b.dataset.dataset; sendConfig(); };
  $("add-layer").onclick = () => { if (settings.hidden.length < MAX_LAYERS) { settings.hidden.push({ units: 4, activation: settings.hidden.length ? settings.hidden[settings.hidden.length - 1].activation : "tanh" }); sendConfig(); } };
  $("remove-layer").onclick = () => { if (settings.hidden.length) { settings.hidden.pop(); sendConfig(); } };
  $("play").onclick = () => send({ type: frame && frame.playing ? "pause" : "play" });
  $("step-minibatch").onclick = () => send({ type: "step", unit: "minibatch" });
  $("step-epoch").onclick = () => send({ type: "step", unit: "epoch" });
  $("reset").onclick = () => send({ type: "reset" });
  $("error-close").onclick = () => { $("error").hidden = true; };

  const ACT_CODE = { sigmoid: "s", tanh: "t", relu: "r", leaky_relu: "l", step: "u" };
  const CODE_ACT = Object.fromEntries(Object.entries(ACT_CODE).map(([a, c]) => [c, a]));
  function writeUrl() {
    const s = settings, p = new URLSearchParams();
    if (lesson) p.set("lesson", lesson);
    p.set("data", s.dataset); p.set("points", s.n_points); p.set("noise", s.noise); p.set("classes", s.n_classes);
    p.set("train", s.train_ratio);
    p.set("hidden", s.hidden.map((h) => `${h.units}${ACT_CODE[h.activation]}`).join("-"));
    p.set("out", s.output); p.set("opt", s.optimizer); p.set("lr", s.learning_rate); p.set("batch", s.batch_size);
    p.set("l2", s.l2); p.set("seed", s.seed); p.set("speed", s.speed);
    history_replace(`#${p.toString()}`);
  }
  function history_replace(hash) { if (location.hash !== hash) window.history.replaceState(null, "", hash); }
  function readUrl(defaults) {
    const s = structuredClone(defaults), p = new URLSearchParams(location.hash.slice(1));
    const number = (key, target) => { if (p.has(key) && Number.isFinite(Number(p.get(key))) && p.get(key) !== "") s[target] = Number(p.get(key)); };
    if (p.has("data")) s.dataset = p.get("data");
    number("points", "n_points"); number("noise", "noise"); number("classes", "n_classes"); number("train", "train_ratio");
    number("lr", "learning_rate"); number("batch", "batch_size"); number("l2", "l2"); number("seed", "seed"); number("speed", "speed");
    if (p.has("out")) s.output = p.get("out");
    if (p.has("opt")) s.optimizer = p.get("opt");
    if (p.has("hidden")) {
      const text = p.get("hidden");
      s.hidden = text === "" ? [] : text.split("-").map((part) => ({ units: Number(part.slice(0, -1)), activation: CODE_ACT[part.slice(-1)] || part.slice(-1) }));
    }
    return { settings: s, lesson: p.get("lesson") || "" };
  }

  // ---------------------------------------------------------------- files
  function showError(text, sticky = false) {
    api.errors.push(text);
    $("error-text").textContent = text;
    $("error").hidden = false;
    clearTimeout(showError.timer);
    if (!sticky) showError.timer = setTimeout(() => { $("error").hidden = true; }, 12000);
  }
  // The file pickers are labels around hidden inputs: make them work from the keyboard too.
  for (const label of document.querySelectorAll("label.button")) {
    label.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      label.querySelector("input[type=file]").click();
    });
  }
  $("upload").addEventListener("change", async () => {
    const file = $("upload").files[0];
    $("upload").value = "";
    if (!file) return;
    if (file.size > MAX_UPLOAD) { showError(`${file.name} is ${file.size.toLocaleString("en")} bytes; the limit is ${MAX_UPLOAD.toLocaleString("en")}.`); return; }
    send({ type: "upload_csv", name: file.name, text: await file.text() });
  });
  // A field with a comma, a quote or a line break goes in quotes with its quotes doubled (RFC
  // 4180): an uploaded file's class names ("cat, big") come back as they were.
  const csvField = (text) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  $("download").onclick = () => {
    const lines = ["x1,x2,label"];
    for (const subset of ["train", "test"]) for (const [x1, x2, label] of state.points[subset]) lines.push(`${x1},${x2},${csvField(state.classes[label])}`);
    saveBlob(new Blob([lines.join("\n") + "\n"], { type: "text/csv" }), `chainrule-${settings.dataset}.csv`);
  };
  $("export").onclick = () => send({ type: "export" });
  $("import").addEventListener("change", async () => {
    const file = $("import").files[0];
    $("import").value = "";
    if (!file) return;
    if (file.size > MAX_UPLOAD) { showError(`${file.name} is ${file.size.toLocaleString("en")} bytes; the limit is ${MAX_UPLOAD.toLocaleString("en")}.`); return; }
    const data = new Uint8Array(await file.arrayBuffer());
    let text = "";
    for (let i = 0; i < data.length; i += 0x8000) text += String.fromCharCode(...data.subarray(i, i + 0x8000));
    send({ type: "import_model", name: file.name, data: btoa(text) });
  });
  function downloadModel(message) {
    saveBlob(new Blob([bytes(message.data)], { type: "application/octet-stream" }), message.filename);
  }
  function saveBlob(blob, filename) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  // ---------------------------------------------------------------- lessons
  const GATE_POINTS = (f) => [[0, 0], [0, 1], [1, 0], [1, 1]].map(([a, b]) => [a, b, f(a, b)]);
  const LESSONS = {
    or: {
      text: "<b>OR with one McCulloch-Pitts unit.</b> h = u(x1 + x2 − 0.5): the weights (1, 1) and the bias weight −0.5 put the line x1 + x2 = 0.5 between (0,0) and the other three corners. Hover the edges to read the weights; click a point to see e and h.",
      settings: { hidden: [], output: "step", train_ratio: 1 }, points: GATE_POINTS((a, b) => a | b), weights: [[[1, 1, -0.5]]], css: "lesson-gates",
    },
    and: {
      text: "<b>AND with one McCulloch-Pitts unit.</b> h = u(x1 + x2 − 1.5): only (1,1) lies above the line x1 + x2 = 1.5.",
      settings: { hidden: [], output: "step", train_ratio: 1 }, points: GATE_POINTS((a, b) => a & b), weights: [[[1, 1, -1.5]]], css: "lesson-gates",
    },
    "xor-wired": {
      text: "<b>The lecture's hand-wired XOR.</b> h1 = u(0.5 − x1 − x2) fires only at (0,0), h2 = u(x1 + x2 − 1.5) only at (1,1), and y = u(0.5 − h1 − h2) is 1 when neither fires: XOR. No single unit can do this (the points are not linearly separable); one hidden layer can.",
      settings: { hidden: [{ units: 2, activation: "step" }], output: "step", train_ratio: 1 }, points: GATE_POINTS((a, b) => a ^ b),
      weights: [[[-1, -1, 0.5], [1, 1, -1.5]], [[-1, -1, 0.5]]], css: "lesson-gates",
    },
    "xor-linear": {
      text: "<b>XOR without a hidden layer.</b> Press play: a softmax output on x alone draws one straight boundary, so test accuracy stays near 50% however long it trains. Then try the next lesson.",
      settings: { dataset: "xor", hidden: [], output: "softmax", optimizer: "sgd", learning_rate: 0.1, train_ratio: 0.5 }, css: "lesson-simple",
    },
    "xor-hidden": {
      text: "<b>XOR with one hidden layer.</b> Four tanh units are enough: press play and watch the hidden-layer view, where the four clusters become linearly separable.",
      settings: { dataset: "xor", hidden: [{ units: 4, activation: "tanh" }], output: "softmax", optimizer: "sgd", learning_rate: 0.3, train_ratio: 0.5 }, css: "lesson-simple",
    },
    saturation: {
      text: "<b>Saturation.</b> Five sigmoid layers on the circle: press play and watch gradient health. σ'(e) ≤ 0.25, so ∂L/∂W shrinks layer by layer towards the input and the first layers barely learn. Switch every layer to tanh (g' ≤ 1) or ReLU (g' = 1 where e > 0), press reset and compare; ReLU can leave dead units.",
      settings: { dataset: "circle", n_classes: 2, hidden: Array.from({ length: 5 }, () => ({ units: 6, activation: "sigmoid" })), output: "softmax", optimizer: "sgd", learning_rate: 0.3 },
    },
    softmax: {
      text: "<b>Softmax with 4 classes.</b> The output layer has one unit per class and h_j = exp(e_j) / Σ_k exp(e_k) = P(Y = j | x); cross-entropy L = −ln h_y. Click a point: ∂L/∂e_j = h_j − [j = y].",
      settings: { dataset: "gaussian", n_classes: 4, hidden: [{ units: 8, activation: "tanh" }], output: "softmax", optimizer: "adam", learning_rate: 0.03 },
    },
  };

  function startLesson(name, fromMenu) {
    const spec = LESSONS[name];
    // A gate lesson's four corners and settings (no hidden layer, a step output, no test
    // points) are the lesson's own, not the learner's: what follows it starts from the
    // defaults. Its corners, and points a learner clicked or uploaded, give way to the data set
    // a lesson names: sent unchanged, the settings ask the server for their data set afresh
    // (otherwise the lesson's settings would only split those points anew).
    const afterGates = Boolean(LESSONS[lesson] && LESSONS[lesson].points);
    const freshData = state.source === "custom" && (spec ? !spec.points : afterGates);
    if (freshData && send({ type: "config", settings: state.settings })) pendingConfigs += 1;
    document.body.classList.remove("lesson-gates", "lesson-simple");
    lesson = spec ? name : "";
    const box = $("lesson-text");
    if (!spec) { box.hidden = true; settings = structuredClone(defaults); sendConfig(); return; }
    if (fromMenu || !settings) settings = structuredClone(afterGates ? defaults : state.settings);
    Object.assign(settings, structuredClone(spec.settings));
    if (spec.css) document.body.classList.add(spec.css);
    box.innerHTML = spec.text;
    box.hidden = false;
    sendConfig();
    if (spec.points) send({ type: "points", points: spec.points });
    if (spec.weights) send({ type: "set_weights", weights: spec.weights });
  }
  $("lesson").addEventListener("change", () => startLesson($("lesson").value, true));

  window.addEventListener("resize", () => { if (state) layoutDiagram(); });
  connect();
})();
