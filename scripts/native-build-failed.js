// Runs only when `node-gyp rebuild` failed during `npm install`.
// The library still works through the TypeScript twin; say so loudly instead of failing the install.
console.warn(
  '\n[mpcache] WARNING: the native kernel addon could not be built (see the node-gyp output above).\n' +
  '[mpcache] The pure TypeScript twin will be used instead: results are identical, speed is lower.\n' +
  '[mpcache] Install python3, make and g++ and run `npm rebuild mpcache` (or `npx node-gyp rebuild`) to get the native backend.\n'
);
