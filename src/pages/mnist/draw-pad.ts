// The canvas a digit is drawn on, with a mouse, a pen or a finger (pointer events; the canvas's CSS
// says touch-action: none so a finger draws instead of scrolling). White round strokes on black,
// like MNIST's ink. The stroke is about a tenth of the canvas wide: a digit drawn to fill most of
// the pad then comes out 2-3 px thick at MNIST's 20 px, as the handwriting in MNIST is.
import { grayscale, type Gray } from './preprocess.js';

export class DrawPad {
  private readonly ctx: CanvasRenderingContext2D;
  private last: { x: number; y: number } | undefined;
  private active: number | undefined;
  private inked = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    /** Called after every change of the drawing (often: many times per frame while a stroke is drawn). */
    private readonly onChange: () => void,
  ) {
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('this browser gives no 2D canvas');
    this.ctx = ctx;
    this.paintBlank();
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    for (const end of ['pointerup', 'pointercancel', 'lostpointercapture'] as const) canvas.addEventListener(end, (e) => this.up(e));
  }

  /** True once anything was drawn since the last clear. */
  get hasInk(): boolean {
    return this.inked;
  }

  clear(): void {
    this.paintBlank();
    this.onChange();
  }

  private paintBlank(): void {
    const { ctx, canvas } = this;
    ctx.fillStyle = 'black';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = 'white';
    ctx.fillStyle = 'white';
    ctx.lineWidth = canvas.width / 12;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    this.inked = false;
  }

  /** The drawing as brightness in [0, 1]. */
  pixels(): Gray {
    const { width, height } = this.canvas;
    return grayscale(this.ctx.getImageData(0, 0, width, height).data, width, height);
  }

  /** A pointer position in canvas pixels (the canvas may be shown smaller or larger than it is). */
  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * this.canvas.width) / r.width, y: ((e.clientY - r.top) * this.canvas.height) / r.height };
  }

  private down(e: PointerEvent): void {
    if (this.active !== undefined || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    this.active = e.pointerId;
    this.canvas.setPointerCapture(e.pointerId);
    this.last = this.point(e);
    // A tap leaves a dot: a stroke of no length draws nothing.
    this.ctx.beginPath();
    this.ctx.arc(this.last.x, this.last.y, this.ctx.lineWidth / 2, 0, 2 * Math.PI);
    this.ctx.fill();
    this.inked = true;
    this.onChange();
  }

  private move(e: PointerEvent): void {
    if (e.pointerId !== this.active || !this.last) return;
    // The positions the browser merged into this event since the last one: a fast stroke stays smooth.
    const points = (e.getCoalescedEvents?.() ?? []).map((c) => this.point(c));
    if (points.length === 0) points.push(this.point(e));
    this.ctx.beginPath();
    this.ctx.moveTo(this.last.x, this.last.y);
    for (const p of points) this.ctx.lineTo(p.x, p.y);
    this.ctx.stroke();
    this.last = points[points.length - 1];
    this.onChange();
  }

  private up(e: PointerEvent): void {
    if (e.pointerId !== this.active) return;
    this.active = undefined;
    this.last = undefined;
  }
}
