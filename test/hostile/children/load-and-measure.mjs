// Loads a model folder (argv[2]) in a fresh process and prints, as JSON, how loading ended and
// how much memory it took: the peak resident size over a sampling timer and the growth of
// ArrayBuffer memory, for test/hostile/model-files.test.ts's resource-bomb cases.
const st = await import('../../../dist/index.js');
st.setBackend('reference');
const rss0 = process.memoryUsage().rss;
let peak = rss0;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
let result;
try {
  await st.loadModel(process.argv[2]);
  result = { ok: true };
} catch (e) {
  result = { ok: false, name: e.constructor.name, message: e.message };
}
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
process.stdout.write(JSON.stringify({ ...result, peakGrowthMB: (peak - rss0) / 2 ** 20 }));
