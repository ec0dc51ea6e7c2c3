// Arena drawing and the "who do I hear, and why" classification.
// World: metres, +X right, +Z forward (MVP-SPEC 7); the screen shows +Z up.

/**
 * Classifies every other entity for the player.
 * me: {x, z}; others: [{id, x, z}]; canHear: Set of ids (daemon policy, null
 * before the first snapshot); cap: the client's maxSubscribedVoices;
 * radii: {enterM, exitM}.
 * Returns Map id -> { status: 'hearing'|'capped'|'pending'|'out', distM, why }.
 * 'hearing' = in the policy's canHear and among the `cap` nearest of it (the
 * client subscribes exactly those); 'capped' = allowed but beyond the cap;
 * 'pending' = within the enter radius but not (yet) in canHear (the daemon
 * recomputes at 4 Hz; beyond its own cap of 12 it stays so).
 */
export function classify(me, others, canHear, cap, radii) {
  const dist = (e) => Math.hypot(e.x - me.x, e.z - me.z);
  const allowed = others
    .filter((e) => canHear && canHear.has(e.id))
    .sort((a, b) => dist(a) - dist(b) || (a.id < b.id ? -1 : 1));
  const rank = new Map(allowed.map((e, i) => [e.id, i]));
  const out = new Map();
  for (const e of others) {
    const d = dist(e);
    const r = rank.get(e.id);
    let status;
    let why;
    if (r !== undefined && r < cap) {
      status = 'hearing';
      why =
        d <= radii.enterM
          ? `in range (${d.toFixed(1)} m)`
          : `leaving: ${d.toFixed(1)} m, kept until ${radii.exitM} m`;
    } else if (r !== undefined) {
      status = 'capped';
      why = `in range, #${r + 1} nearest; cap ${cap}`;
    } else if (d <= radii.enterM) {
      status = 'pending';
      why = canHear ? `in range (${d.toFixed(1)} m), not in policy yet` : 'waiting for policy';
    } else {
      status = 'out';
      why = `out of range (${d.toFixed(0)} m > ${radii.enterM} m)`;
    }
    out.set(e.id, { status, distM: d, why });
  }
  return out;
}

const COLORS = {
  hearing: '#3ddc84',
  capped: '#f5a623',
  pending: '#d9d66a',
  out: '#5b6573',
  me: '#4aa3ff',
  player: '#9b7dff',
};

/** Draws the arena. view: { arena, radii, me, others, classes, speaking:Set, levels:{id:amp} }. */
export function draw(canvas, view) {
  const g = canvas.getContext('2d');
  const { arena } = view;
  const s = Math.min(
    canvas.width / (arena.maxX - arena.minX),
    canvas.height / (arena.maxZ - arena.minZ),
  );
  const sx = (x) => (x - arena.minX) * s;
  const sy = (z) => (arena.maxZ - z) * s;
  g.clearRect(0, 0, canvas.width, canvas.height);
  drawGrid(g, arena, sx, sy);
  if (view.me) drawRadii(g, view, sx, sy, s);
  for (const e of view.others) {
    const c = view.classes.get(e.id);
    if (view.me && c && c.status === 'hearing') {
      g.strokeStyle = 'rgba(61, 220, 132, 0.35)';
      g.lineWidth = 2;
      g.beginPath();
      g.moveTo(sx(view.me.x), sy(view.me.z));
      g.lineTo(sx(e.x), sy(e.z));
      g.stroke();
    }
  }
  for (const e of view.others)
    drawEntity(
      g,
      e,
      sx,
      sy,
      view,
      e.kind === 'player' ? COLORS.player : COLORS[view.classes.get(e.id)?.status ?? 'out'],
    );
  if (view.me) drawEntity(g, { ...view.me, name: 'you' }, sx, sy, view, COLORS.me);
}

function drawGrid(g, arena, sx, sy) {
  g.strokeStyle = '#1c222a';
  g.lineWidth = 1;
  for (let x = Math.ceil(arena.minX / 10) * 10; x <= arena.maxX; x += 10)
    line(g, sx(x), sy(arena.minZ), sx(x), sy(arena.maxZ));
  for (let z = Math.ceil(arena.minZ / 10) * 10; z <= arena.maxZ; z += 10)
    line(g, sx(arena.minX), sy(z), sx(arena.maxX), sy(z));
  g.fillStyle = '#39424e';
  g.font = '11px system-ui';
  g.fillText('10 m grid', 6, 14);
}

function drawRadii(g, view, sx, sy, s) {
  const { me, radii } = view;
  g.fillStyle = 'rgba(74, 163, 255, 0.06)';
  g.beginPath();
  g.arc(sx(me.x), sy(me.z), radii.enterM * s, 0, 2 * Math.PI);
  g.fill();
  g.strokeStyle = 'rgba(74, 163, 255, 0.7)';
  g.lineWidth = 1.5;
  g.beginPath();
  g.arc(sx(me.x), sy(me.z), radii.enterM * s, 0, 2 * Math.PI);
  g.stroke();
  g.setLineDash([6, 6]);
  g.strokeStyle = 'rgba(74, 163, 255, 0.45)';
  g.beginPath();
  g.arc(sx(me.x), sy(me.z), radii.exitM * s, 0, 2 * Math.PI);
  g.stroke();
  g.setLineDash([]);
  g.fillStyle = 'rgba(74, 163, 255, 0.8)';
  g.font = '11px system-ui';
  g.fillText(
    `${radii.enterM} m`,
    sx(me.x) + radii.enterM * s * 0.71 + 4,
    sy(me.z) - radii.enterM * s * 0.71,
  );
}

function drawEntity(g, e, sx, sy, view, color) {
  const x = sx(e.x);
  const y = sy(e.z);
  const speaking = view.speaking.has(e.id);
  const level = view.levels?.[e.id] ?? 0;
  if (speaking || level > 0.002) {
    g.strokeStyle = color;
    g.globalAlpha = 0.5;
    g.lineWidth = 2;
    const r = 12 + Math.min(14, speaking ? 8 : 0) + Math.min(10, Math.sqrt(level) * 40);
    g.beginPath();
    g.arc(x, y, r, 0, 2 * Math.PI);
    g.stroke();
    g.globalAlpha = 1;
  }
  g.fillStyle = color;
  g.beginPath();
  g.arc(x, y, 8, 0, 2 * Math.PI);
  g.fill();
  // facing: heading 0 = +Z = screen up
  g.strokeStyle = '#0f1216';
  g.lineWidth = 2;
  line(g, x, y, x + 8 * Math.sin(e.heading ?? 0), y - 8 * Math.cos(e.heading ?? 0));
  g.fillStyle = '#dfe4ea';
  g.font = '12px system-ui';
  g.textAlign = 'center';
  const c = view.classes.get(e.id);
  g.fillText(c ? `${e.name} · ${c.distM.toFixed(0)} m` : e.name, x, y - 13);
  g.textAlign = 'left';
}

function line(g, x0, y0, x1, y1) {
  g.beginPath();
  g.moveTo(x0, y0);
  g.lineTo(x1, y1);
  g.stroke();
}
