// The projector's scatter plot on a canvas: points in 2-D (drag pans, the wheel zooms) or 3-D
// (drag rotates, the wheel zooms, perspective and depth order so near points cover far ones).
// A few thousand filled circles per frame are cheap for a canvas, so a drawing library would add
// weight without adding anything the page needs; this file also answers which point is under
// the pointer, from the screen positions of the last frame.

export interface ScatterOptions {
  /** `dims` coordinates per point. */
  points: ArrayLike<number>;
  dims: 2 | 3;
  /** Each point's class, an index into `colors`. */
  classes: ArrayLike<number>;
  colors: string[];
  /** Axis names drawn along the axes (3-D) or the edges (2-D). */
  axes: string[];
}

/** The camera: zoom and pan for 2-D, and two rotation angles for 3-D. */
interface Camera {
  zoom: number;
  panX: number;
  panY: number;
  yaw: number;
  pitch: number;
}

const START: Camera = { zoom: 1, panX: 0, panY: 0, yaw: -0.6, pitch: 0.35 };
/** Camera distance in units of the cloud's radius: closer is more perspective. */
const EYE = 3.2;

export class ScatterView {
  readonly count: number;
  private readonly unit: Float64Array;
  /** The largest |x| and |y| of the normalized points (one of them is 1 in 2-D). */
  private readonly extent = [1e-9, 1e-9];
  private readonly screen: Float32Array;
  private readonly depth: Float32Array;
  private order: Uint32Array;
  private camera: Camera = { ...START };
  /** Classes shown; the legend switches them. */
  readonly shown: boolean[];
  /** Points drawn with a dark ring (the misclassified ones, when asked). */
  ringed: ArrayLike<boolean> | undefined;
  hovered = -1;
  drawn = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly o: ScatterOptions,
  ) {
    this.count = o.classes.length;
    this.unit = normalize(o.points, o.dims, this.count);
    for (let i = 0; i < this.count; i++) for (const a of [0, 1]) this.extent[a] = Math.max(this.extent[a], Math.abs(this.unit[3 * i + a]));
    this.screen = new Float32Array(this.count * 2);
    this.depth = new Float32Array(this.count);
    this.order = Uint32Array.from({ length: this.count }, (_, i) => i);
    this.shown = o.colors.map(() => true);
  }

  reset(): void {
    this.camera = { ...START };
  }

  /** A drag of (dx, dy) CSS pixels: a pan in 2-D, a rotation in 3-D. */
  drag(dx: number, dy: number): void {
    const c = this.camera;
    if (this.o.dims === 3) {
      c.yaw += dx * 0.01;
      c.pitch = Math.max(-1.5, Math.min(1.5, c.pitch + dy * 0.01));
    } else {
      const r = this.radius();
      c.panX += dx / r;
      c.panY -= dy / r;
    }
  }

  zoomBy(factor: number): void {
    this.camera.zoom = Math.max(0.2, Math.min(40, this.camera.zoom * factor));
  }

  private radius(): number {
    // In 3-D, perspective enlarges the near side by up to EYE / (EYE - 1.1) (the axes' tips): a smaller radius keeps it in view.
    const w = this.canvas.clientWidth,
      h = this.canvas.clientHeight;
    if (this.o.dims === 3) return Math.min(w, h) * 0.34 * this.camera.zoom;
    // In 2-D one axis spans [-1, 1] and the other may be shorter: the scale that fits both fills a wide canvas.
    return Math.min((w * 0.46) / this.extent[0], (h * 0.46) / this.extent[1]) * this.camera.zoom;
  }

  /** Where point i is drawn, in CSS pixels from the canvas's top left corner. */
  position(i: number): { x: number; y: number } {
    return { x: this.screen[2 * i], y: this.screen[2 * i + 1] };
  }

  /** Rotates (3-D) or pans (2-D) a unit-cube point to the screen; returns its depth too (larger is nearer). */
  private project(x: number, y: number, z: number): [number, number, number] {
    const w = this.canvas.clientWidth,
      h = this.canvas.clientHeight;
    const r = this.radius();
    const c = this.camera;
    if (this.o.dims === 2) return [w / 2 + (x + c.panX) * r, h / 2 - (y + c.panY) * r, 0];
    const cy = Math.cos(c.yaw),
      sy = Math.sin(c.yaw),
      cp = Math.cos(c.pitch),
      sp = Math.sin(c.pitch);
    const x1 = cy * x + sy * z,
      z1 = -sy * x + cy * z;
    const y2 = cp * y - sp * z1,
      z2 = sp * y + cp * z1;
    const f = EYE / (EYE - z2);
    return [w / 2 + x1 * r * f, h / 2 - y2 * r * f, z2];
  }

  draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const { canvas, o } = this;
    const w = canvas.clientWidth,
      h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const g = canvas.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    for (let i = 0; i < this.count; i++) {
      const p = this.unit;
      const [sx, sy, d] = this.project(p[3 * i], p[3 * i + 1], p[3 * i + 2]);
      this.screen[2 * i] = sx;
      this.screen[2 * i + 1] = sy;
      this.depth[i] = d;
    }
    if (o.dims === 3) {
      this.order.sort((a, b) => this.depth[a] - this.depth[b]);
      this.drawAxes3d(g);
    } else {
      this.drawAxes2d(g, w, h);
    }
    let drawn = 0;
    for (const i of this.order) {
      if (!this.shown[o.classes[i]]) continue;
      const [x, y] = [this.screen[2 * i], this.screen[2 * i + 1]];
      if (x < -5 || y < -5 || x > w + 5 || y > h + 5) continue;
      // Far points are smaller and fainter in 3-D, so the cloud reads as a volume.
      const near = o.dims === 3 ? (this.depth[i] + 1.8) / 2.8 : 1;
      g.globalAlpha = 0.35 + 0.5 * near;
      g.fillStyle = o.colors[o.classes[i]];
      g.beginPath();
      g.arc(x, y, 1.6 + 1.6 * near, 0, 2 * Math.PI);
      g.fill();
      if (this.ringed?.[i]) {
        g.globalAlpha = 1;
        g.strokeStyle = '#111';
        g.lineWidth = 1.2;
        g.stroke();
      }
      drawn++;
    }
    g.globalAlpha = 1;
    if (this.hovered >= 0) {
      const { x, y } = this.position(this.hovered);
      g.strokeStyle = '#000';
      g.lineWidth = 2;
      g.beginPath();
      g.arc(x, y, 7, 0, 2 * Math.PI);
      g.stroke();
    }
    this.drawn = drawn;
  }

  private drawAxes2d(g: CanvasRenderingContext2D, w: number, h: number): void {
    g.fillStyle = '#656d76';
    g.font = '12px system-ui, sans-serif';
    g.textAlign = 'right';
    g.fillText(`${this.o.axes[0]} →`, w - 8, h - 8);
    g.save();
    g.translate(14, 8);
    g.rotate(-Math.PI / 2);
    g.fillText(`${this.o.axes[1]} →`, 0, 0);
    g.restore();
  }

  private drawAxes3d(g: CanvasRenderingContext2D): void {
    const [ox, oy] = this.project(0, 0, 0);
    g.font = '12px system-ui, sans-serif';
    g.textAlign = 'center';
    for (let a = 0; a < 3; a++) {
      const end = [0, 0, 0];
      end[a] = 1.1;
      const [x, y] = this.project(end[0], end[1], end[2]);
      g.strokeStyle = '#8c959f';
      g.lineWidth = 1;
      g.beginPath();
      g.moveTo(ox, oy);
      g.lineTo(x, y);
      g.stroke();
      g.fillStyle = '#656d76';
      g.fillText(this.o.axes[a], x, y - 4);
    }
  }

  /** The drawn point nearest to (x, y) in CSS pixels, within `reach` pixels, or -1; the nearest in depth wins ties. */
  pick(x: number, y: number, reach = 8): number {
    let best = -1,
      bestDistance = reach * reach;
    for (const i of this.order) {
      if (!this.shown[this.o.classes[i]]) continue;
      const d = (this.screen[2 * i] - x) ** 2 + (this.screen[2 * i + 1] - y) ** 2;
      // Drawn later means nearer in 3-D, so <= lets the point on top win.
      if (d <= bestDistance) {
        best = i;
        bestDistance = d;
      }
    }
    return best;
  }
}

/**
 * The points centred on the origin and scaled by one factor for every axis (so distances keep
 * their proportions), three coordinates each (0 for a missing third). In 2-D the bounding box is
 * centred and its longer half-side becomes 1, which fills the view; in 3-D the farthest point
 * from the box's centre is at distance 1, so no point leaves the view as the cloud turns.
 */
function normalize(points: ArrayLike<number>, dims: number, n: number): Float64Array {
  const out = new Float64Array(n * 3);
  const lo = [Infinity, Infinity, Infinity],
    hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++)
    for (let a = 0; a < dims; a++) {
      lo[a] = Math.min(lo[a], points[i * dims + a]);
      hi[a] = Math.max(hi[a], points[i * dims + a]);
    }
  let extent = 0;
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let a = 0; a < dims; a++) {
      const v = points[i * dims + a] - (lo[a] + hi[a]) / 2;
      out[3 * i + a] = v;
      r = dims === 2 ? Math.max(r, Math.abs(v)) : r + v * v;
    }
    extent = Math.max(extent, dims === 2 ? r : Math.sqrt(r));
  }
  const scale = extent > 0 ? 1 / extent : 1;
  for (let i = 0; i < out.length; i++) out[i] *= scale;
  return out;
}
