// The esbuild options every browser bundle shares (the library's, build-browser.mjs, and the
// pages', build-pages.mjs): one ES module per entry for current browsers, minified, with a
// linked source map.
export const browserBundleOptions = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  // Class names survive minifying: errors name themselves after their class (FormatError), as in Node.
  keepNames: true,
  sourcemap: 'linked',
  logLevel: 'warning',
};
